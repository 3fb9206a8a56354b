// pool-bench: the C worker pool (Kernels/threads.c) against Dispatch's concurrentPerform, on
// what generation asks of threads: many short jobs back to back.
//
//   swift run -c release pool-bench [threads]
//
// 1. Empty jobs: the cost of starting and finishing one parallel job.
// 2. A TinyLlama-1.1B-shaped token in Q4_0 (22 layers of q/k/v, o, gate/up, down products,
//    ~560 MB of random weights): the products with rows split by the C pool (infer_matvec)
//    or by concurrentPerform over row chunks (each chunk preparing its activation itself).
import CKernels
import Dispatch
import Foundation

/// An empty task for the C pool.
private func nothing(_ context: UnsafeMutableRawPointer?, _ begin: Int32, _ end: Int32, _ thread: Int32) {}

@main
enum PoolBench {
    nonisolated static func main() {
        let threads = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1])! : ProcessInfo.processInfo.activeProcessorCount

        func seconds(_ body: () -> Void) -> Double {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }

        func median(_ values: [Double]) -> Double {
            let s = values.sorted()
            return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
        }

        let pool = infer_pool_create(Int32(threads))!
        print("threads: \(threads)")

        // ---- 1. empty jobs ----
        let jobs = 20000
        var poolTimes: [Double] = [], dispatchTimes: [Double] = []
        for _ in 0..<5 {
            poolTimes.append(seconds { for _ in 0..<jobs { infer_pool_run(pool, nothing, nil, Int32(threads), 1) } })
            dispatchTimes.append(seconds { for _ in 0..<jobs { DispatchQueue.concurrentPerform(iterations: threads) { _ in } } })
        }
        // The C pool's caller runs an empty job alone when the workers are slower to look.
        print(String(format: "empty job:  C pool %.2f µs   concurrentPerform %.2f µs",
                     median(poolTimes) / Double(jobs) * 1e6, median(dispatchTimes) / Double(jobs) * 1e6))

        // ---- 2. a TinyLlama-shaped token ----
        let dim = 2048, kvDim = 256, hidden = 5632, layers = 22
        let q4Block = 18
        func rowBytes(_ cols: Int) -> Int { cols / 32 * q4Block }

        /// Random Q4_0 weights with small scales.
        func makeMatrix(rows: Int, cols: Int) -> infer_matrix {
            let bytes = rows * rowBytes(cols)
            let data = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
            var state: UInt64 = 0x9E37_79B9_7F4A_7C15 &+ UInt64(bytes)
            let words = data.bindMemory(to: UInt64.self, capacity: bytes / 8)
            for i in 0..<bytes / 8 {
                state ^= state << 13; state ^= state >> 7; state ^= state << 17
                words[i] = state
            }
            let scale = infer_fp32_to_fp16(0.001)
            for b in 0..<(bytes / q4Block) { data.storeBytes(of: scale, toByteOffset: b * q4Block, as: UInt16.self) }
            return infer_matrix(type: INFER_TYPE_Q4_0, data: UnsafeRawPointer(data), row_bytes: rowBytes(cols),
                                rows: Int32(rows), cols: Int32(cols), group_scales: nil, group_size: 0)
        }

        struct Layer { var q, k, v, o, gate, up, down: infer_matrix }
        let model = (0..<layers).map { _ in
            Layer(q: makeMatrix(rows: dim, cols: dim), k: makeMatrix(rows: kvDim, cols: dim), v: makeMatrix(rows: kvDim, cols: dim),
                  o: makeMatrix(rows: dim, cols: dim), gate: makeMatrix(rows: hidden, cols: dim), up: makeMatrix(rows: hidden, cols: dim),
                  down: makeMatrix(rows: dim, cols: hidden))
        }
        let x = UnsafeMutablePointer<Float>.allocate(capacity: hidden)
        for i in 0..<hidden { x[i] = Float(i % 17) / 17 - 0.5 }
        let y = (0..<3).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: hidden) }
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: 1 << 20, alignment: 64)
        let chunkScratch = UnsafeMutableRawPointer.allocate(byteCount: 64 << 20, alignment: 64)

        /// The products of one token as jobs of matrices sharing an input.
        let tokenJobs: [[infer_matrix]] = model.flatMap { [[$0.q, $0.k, $0.v], [$0.o], [$0.gate, $0.up], [$0.down]] }

        func tokenWithPool() {
            for job in tokenJobs {
                var matrices = job
                matrices.withUnsafeMutableBufferPointer { m in
                    let products = m.indices.map { infer_product(w: m.baseAddress! + $0, x: x, y: y[$0]) }
                    infer_matvec(pool, products, Int32(products.count), scratch)
                }
            }
        }

        func tokenWithDispatch() {
            let chunksPerMatrix = 4 * threads
            for job in tokenJobs {
                let chunks = job.count * chunksPerMatrix
                nonisolated(unsafe) let jobCopy = job, x = x, y = y, chunkScratch = chunkScratch
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                    var w = jobCopy[c / chunksPerMatrix]
                    let part = c % chunksPerMatrix, rows = Int(w.rows)
                    let begin = rows * part / chunksPerMatrix, end = rows * (part + 1) / chunksPerMatrix
                    w.data = w.data + begin * w.row_bytes
                    w.rows = Int32(end - begin)
                    withUnsafePointer(to: &w) { wp in
                        var product = infer_product(w: wp, x: x, y: y[c / chunksPerMatrix] + begin)
                        infer_matvec(nil, &product, 1, chunkScratch + c * 16384)
                    }
                }
            }
        }

        let weightBytes = tokenJobs.joined().reduce(0) { $0 + Int($1.rows) * $1.row_bytes }
        tokenWithPool(); tokenWithDispatch()
        // Alternate the two so that both meet the same load from other processes; the fastest
        // run shows what each does when it has the cores to itself.
        var poolTokens: [Double] = [], dispatchTokens: [Double] = []
        for _ in 0..<15 {
            poolTokens.append(seconds(tokenWithPool))
            dispatchTokens.append(seconds(tokenWithDispatch))
        }
        print(String(format: "token (%d jobs, %.0f MB of Q4_0), median / fastest:", tokenJobs.count, Double(weightBytes) / 1e6))
        for (name, times) in [("C pool", poolTokens), ("concurrentPerform", dispatchTokens)] {
            print("  " + name.padding(toLength: 18, withPad: " ", startingAt: 0) + String(format: " %6.1f ms (%4.1f GB/s) / %6.1f ms (%4.1f GB/s)",
                         median(times) * 1e3, Double(weightBytes) / median(times) / 1e9,
                         times.min()! * 1e3, Double(weightBytes) / times.min()! / 1e9))
        }
    }
}
