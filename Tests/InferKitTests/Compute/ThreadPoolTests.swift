import CKernels
import Foundation
import Testing
@testable import InferKit

/// The C worker pool and the parallel products and attention built on it.
struct ThreadPoolTests {
    /// Counts how often each index was handed out.
    final class Tally {
        var hits: [Int32]
        init(_ count: Int) { hits = [Int32](repeating: 0, count: count) }
    }

    @Test(arguments: [1, 2, 3, 8])
    func everyIndexRunsOnce(threads: Int) {
        let pool = infer_pool_create(Int32(threads))
        defer { infer_pool_destroy(pool) }
        #expect(infer_pool_threads(pool) == Int32(threads))
        for (count, grain) in [(1, 1), (5, 1), (1000, 1), (1000, 16), (32000, 64), (7, 100)] {
            for _ in 0..<20 {
                let tally = Tally(count)
                tally.hits.withUnsafeMutableBufferPointer { hits in
                    infer_pool_run(pool, { context, begin, end, _ in
                        let hits = context!.assumingMemoryBound(to: Int32.self)
                        for i in Int(begin)..<Int(end) {
                            // Atomics are unnecessary: a correct pool never hands an index out twice.
                            hits[i] += 1
                        }
                    }, hits.baseAddress, Int32(count), Int32(grain))
                }
                #expect(tally.hits.allSatisfy { $0 == 1 }, "count \(count) grain \(grain)")
            }
        }
    }

    /// Products sharing one input in one job, on several threads, against the reference
    /// kernels one row at a time.
    @Test(arguments: [KernelType.all[1], KernelType.all[3], KernelType.all[7], KernelType.all[10], KernelType.all[12]])
    func parallelProductsMatchReference(_ t: KernelType) {
        var random = TestRandom(seed: 5)
        let cols = 512
        let rowCounts = [300, 17, 64]
        let matrices: [[UInt8]] = rowCounts.map { rows in (0..<rows).flatMap { _ in t.randomRow(cols, &random) } }
        let x = (0..<cols).map { _ in random.uniform(-1, 1) }
        let pool = ThreadPool(threads: 3)
        var outputs = rowCounts.map { [Float](repeating: .nan, count: $0) }
        var expected = outputs
        withMatrices(matrices, rowCounts, cols, t) { weights in
            let pointers = outputs.indices.map { UnsafeMutablePointer<Float>.allocate(capacity: rowCounts[$0]) }
            defer { pointers.forEach { $0.deallocate() } }
            pool.multiply(x, by: weights, into: pointers)
            for i in outputs.indices {
                outputs[i] = Array(UnsafeBufferPointer(start: pointers[i], count: rowCounts[i]))
                var descriptor = weights[i].descriptor
                infer_matvec_reference(&descriptor, x, &expected[i], 0, Int32(rowCounts[i]))
            }
        }
        for (got, want) in zip(outputs, expected) {
            for r in got.indices {
                #expect(abs(got[r] - want[r]) <= 1e-4 * max(1, abs(want[r])), "row \(r): \(got[r]) vs \(want[r])")
            }
        }
    }

    private func withMatrices(_ data: [[UInt8]], _ rows: [Int], _ cols: Int, _ t: KernelType, _ body: ([WeightMatrix]) -> Void) {
        let buffers = data.map { bytes -> UnsafeMutableRawPointer in
            let p = UnsafeMutableRawPointer.allocate(byteCount: bytes.count, alignment: 64)
            p.copyMemory(from: bytes, byteCount: bytes.count)
            return p
        }
        defer { buffers.forEach { $0.deallocate() } }
        let rowBytes = t.type.rowBytes(cols)!
        body(buffers.indices.map { WeightMatrix(rows: rows[$0], cols: cols, storage: .ggml(t.type, UnsafeRawPointer(buffers[$0]), rowBytes: rowBytes)) })
    }
}
