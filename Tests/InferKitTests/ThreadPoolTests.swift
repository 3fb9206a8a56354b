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

    @Test func parallelAttentionMatchesOneThread() {
        var random = TestRandom(seed: 11)
        let heads = 8, kvHeads = 2, headDim = 16, positions = 100, stride = kvHeads * headDim
        let q = (0..<heads * headDim).map { _ in random.uniform(-1, 1) }
        let keys = (0..<positions * stride).map { _ in random.uniform(-1, 1) }
        let values = (0..<positions * stride).map { _ in random.uniform(-1, 1) }
        func run(_ pool: OpaquePointer?) -> [Float] {
            var scores = [Float](repeating: 0, count: heads * positions)
            var out = [Float](repeating: 0, count: heads * headDim)
            infer_attention(pool, q, keys, values, headDim, stride, Int32(heads), Int32(kvHeads), Int32(headDim),
                            Int32(positions), 0.25, &scores, positions, &out)
            return out
        }
        let serial = run(nil)
        // Two threads take whole groups of 4 heads; three, pieces of groups.
        for threads in [2, 3] {
            let pool = infer_pool_create(Int32(threads))
            defer { infer_pool_destroy(pool) }
            #expect(run(pool) == serial, "\(threads) threads")
        }
        // The same cache laid out by head, as sessions keep it: KV head j's rows from
        // j * headStride, headDim apart.
        let headStride = positions * headDim
        func byHead(_ rows: [Float]) -> [Float] {
            var out: [Float] = []
            for j in 0..<kvHeads {
                for p in 0..<positions {
                    let start = p * stride + j * headDim
                    out += rows[start..<start + headDim]
                }
            }
            return out
        }
        let keysByHead = byHead(keys), valuesByHead = byHead(values)
        for threads in [1, 2, 3] {
            let pool = infer_pool_create(Int32(threads))
            defer { infer_pool_destroy(pool) }
            var scores = [Float](repeating: 0, count: heads * positions)
            var out = [Float](repeating: 0, count: heads * headDim)
            infer_attention(pool, q, keysByHead, valuesByHead, headStride, headDim, Int32(heads), Int32(kvHeads),
                            Int32(headDim), Int32(positions), 0.25, &scores, positions, &out)
            #expect(out == serial, "laid out by head, \(threads) threads")
        }
        // Head 5 reads KV head 5 / 4 = 1.
        var scores = [Float](repeating: 0, count: positions)
        var head5 = [Float](repeating: 0, count: headDim)
        infer_attention_head(Array(q[5 * headDim..<6 * headDim]), Array(keys[headDim...]), Array(values[headDim...]),
                             stride, Int32(positions), Int32(headDim), 0.25, &scores, &head5)
        #expect(Array(serial[5 * headDim..<6 * headDim]) == head5)
    }
}
