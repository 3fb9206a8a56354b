import CKernels
import Foundation

/// The threads one session computes with (the C pool of `Kernels/threads.c`: spinning
/// workers that split each matrix product's rows), and the scratch memory its products
/// prepare quantized activations in. Not thread-safe: it runs one job at a time, so each
/// session owns one.
final class ThreadPool {
    /// Threads taking part in each job, the caller included.
    let threadCount: Int
    private let pool: OpaquePointer
    private var scratch: UnsafeMutableRawPointer?
    private var scratchBytes = 0

    /// The default thread count: the cores this process may run on.
    static var defaultThreadCount: Int { ProcessInfo.processInfo.activeProcessorCount }

    /// Most threads a pool accepts.
    static let maxThreadCount = 256

    init(threads: Int) {
        pool = infer_pool_create(Int32(max(1, min(threads, Self.maxThreadCount))))
        threadCount = Int(infer_pool_threads(pool))
    }

    deinit {
        infer_pool_destroy(pool)
        scratch?.deallocate()
    }

    /// The `count` products at `products` as one parallel job (see `infer_matvec`).
    func multiply(_ products: UnsafePointer<infer_product>, count: Int) {
        infer_matvec(pool, products, Int32(count), scratch(bytes: infer_matvec_scratch_bytes(products, Int32(count))))
    }

    /// One token of each of `count` sequences through `decoder`, every thread running all of it
    /// (`infer_decode`).
    func decode(_ decoder: UnsafePointer<infer_decoder>, sequences: UnsafePointer<infer_sequence>, count: Int) {
        infer_decode(pool, decoder, sequences, Int32(count))
    }

    /// At least `bytes` of 64-byte-aligned scratch; grows only on the first tokens.
    private func scratch(bytes: Int) -> UnsafeMutableRawPointer? {
        if bytes > scratchBytes {
            scratch?.deallocate()
            scratch = .allocate(byteCount: bytes, alignment: 64)
            scratchBytes = bytes
        }
        return scratch
    }
}
