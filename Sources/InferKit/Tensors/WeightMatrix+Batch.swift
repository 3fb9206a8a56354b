import CKernels

/// Matrix–matrix products with a weight matrix, for batched prompt processing.
extension WeightMatrix {
    /// f32 weights that BLAS can read in place: (rows, cols) with this leading dimension.
    private var inPlaceFloats: (UnsafePointer<Float>, leadingDimension: Int)? {
        guard case .ggml(.f32, let data, let rowBytes) = storage else { return nil }
        return (data.assumingMemoryBound(to: Float.self), rowBytes / MemoryLayout<Float>.size)
    }

    /// f16 weights multiply activations rounded to f16, in batches as token by token (whose
    /// kernels read them as fp16, as llama.cpp does): the same prompt gives the same logits
    /// either way.
    private var roundsActivationsToF16: Bool {
        if case .ggml(.f16, _, _) = storage { return true }
        return false
    }

    /// Rows `range` as f32 from `out`, `stride` floats apart (default: one after the other).
    func dequantizeRows(_ range: Range<Int>, into out: UnsafeMutablePointer<Float>, stride: Int? = nil) {
        let stride = stride ?? cols
        switch storage {
        case .ggml:
            let d = descriptor  // the interleaved copy where there is one
            infer_dequantize_rows(d.type, d.data, d.row_bytes, Int32(range.lowerBound),
                                  Int32(range.upperBound), Int32(cols), out, stride)
        case .groupedQ8:
            for r in range { dequantizeRow(r, into: out + (r - range.lowerBound) * stride) }
        }
    }

    /// y (n, rows) = x (n, cols) · Wᵀ: every row of x multiplied by the matrix, a tile of
    /// weight rows at a time, so the model is never widened whole:
    /// - types with an integer kernel (`infer_qgemm_supported`): the activations are
    ///   quantized to 8 bits per block of 32 (as llama.cpp does) and each tile is packed for
    ///   the AVX-512 VNNI kernel;
    /// - other types: each tile is widened to f32 and multiplied with the AVX-512 float
    ///   kernel (`infer_fgemm`), or, where the CPU has no AVX-512, with BLAS (which reads f32
    ///   weights in place).
    /// The rows are split among `threads` threads, each packing and multiplying its own
    /// tiles in its part of `scratch` (BLAS itself runs single-threaded inside each).
    /// - Parameters:
    ///   - xStride: floats between consecutive rows of x (at least `cols`).
    ///   - yStride: floats between consecutive rows of y (at least `rows`).
    ///   - kernels: false takes the BLAS path whatever the CPU (what other CPUs run; tests).
    func multiply(batch x: UnsafePointer<Float>, count n: Int, xStride: Int,
                  into y: UnsafeMutablePointer<Float>, yStride: Int,
                  scratch: WeightTileScratch, threads: Int = 1, kernels: Bool = true) {
        if let first = columnParts.first {
            // W x = Σ_p W_p x_p: part 0 into y, each further part into a scratch then added to
            // y, in the order of the parts.
            first.multiply(batch: x, count: n, xStride: xStride, into: y, yStride: yStride, scratch: scratch,
                           threads: threads, kernels: kernels)
            let partial = UnsafeMutablePointer<Float>.allocate(capacity: n * rows)  // (n, rows)
            defer { partial.deallocate() }
            for (p, part) in columnParts.enumerated().dropFirst() {
                part.multiply(batch: x + p * part.cols, count: n, xStride: xStride, into: partial, yStride: rows,
                              scratch: scratch, threads: threads, kernels: kernels)
                for t in 0..<n { infer_add(y + t * yStride, partial + t * rows, Int32(rows)) }
            }
            return
        }
        if kernels, case .ggml = storage, case let d = descriptor, infer_qgemm_supported(d.type) != 0,
           multiplyQuantized(d.type, d.data, d.row_bytes, batch: x, count: n, xStride: xStride, into: y, yStride: yStride,
                             scratch: scratch, threads: threads) {
            return
        }
        if kernels, infer_fgemm_supported() != 0,
           multiplyFloat(batch: x, count: n, xStride: xStride, into: y, yStride: yStride, scratch: scratch, threads: threads) {
            return
        }
        if roundsActivationsToF16 {
            // (n, cols) rounded, rows packed
            let rounded = UnsafeMutablePointer<Float>.allocate(capacity: n * cols)
            defer { rounded.deallocate() }
            for t in 0..<n { infer_round_to_f16_precision(x + t * xStride, rounded + t * cols, cols) }
            multiplyBLAS(batch: rounded, count: n, xStride: cols, into: y, yStride: yStride, scratch: scratch, threads: threads)
        } else {
            multiplyBLAS(batch: x, count: n, xStride: xStride, into: y, yStride: yStride, scratch: scratch, threads: threads)
        }
    }

    /// The BLAS path of `multiply(batch:)`.
    private func multiplyBLAS(batch x: UnsafePointer<Float>, count n: Int, xStride: Int,
                              into y: UnsafeMutablePointer<Float>, yStride: Int,
                              scratch: WeightTileScratch, threads: Int) {
        // Parts of whole 16-row groups (BLAS kernels work in such strips), at most one per thread.
        let parts = max(1, min(threads, rows / 16, scratch.capacity / cols))
        let inPlace = inPlaceFloats
        let tileFloats = scratch.capacity / parts
        parallelFor(parts) { p in
            let (begin, end) = Self.part(p, of: parts, rows: rows)
            if let (w, ldw) = inPlace {
                BLAS.multiplyTransposed(m: n, n: end - begin, k: cols, a: x, lda: xStride,
                                        b: w + begin * ldw, ldb: ldw, c: y + begin, ldc: yStride)
                return
            }
            let tile = scratch.floats + p * tileFloats
            let tileRows = tileFloats / cols
            for r0 in stride(from: begin, to: end, by: tileRows) {
                let r1 = min(end, r0 + tileRows)
                dequantizeRows(r0..<r1, into: tile)
                BLAS.multiplyTransposed(m: n, n: r1 - r0, k: cols, a: x, lda: xStride,
                                        b: tile, ldb: cols, c: y + r0, ldc: yStride)
            }
        }
    }

    /// Rows of part p of `parts`: whole 16-row groups, the last part taking the rest.
    private static func part(_ p: Int, of parts: Int, rows: Int) -> (Int, Int) {
        (rows * p / parts / 16 * 16, p == parts - 1 ? rows : rows * (p + 1) / parts / 16 * 16)
    }

    /// Weight rows each thread widens and multiplies at a time on the float kernel: the
    /// kernel reads them in place, so a tile needs only to be large enough for the few
    /// per-tile steps not to matter.
    static let floatTileRows = 96
    /// Floats a tile row is longer than the matrix row: the kernel reads 12 rows side by side,
    /// and rows a power of two apart would all fall into the same L1 cache sets.
    static let floatTilePadding = 16

    /// The float-kernel path of `multiply(batch:)`; false (nothing done) when `scratch`
    /// cannot hold the transposed activations and a tile with its partial sums per thread.
    /// Every type is widened into the tile, f32 too (a copy), for the padded row stride.
    private func multiplyFloat(batch x: UnsafePointer<Float>, count n: Int, xStride: Int,
                               into y: UnsafeMutablePointer<Float>, yStride: Int,
                               scratch: WeightTileScratch, threads: Int) -> Bool {
        let transposedFloats = (cols * Int(infer_fgemm_padded_tokens(Int32(n))) + 15) / 16 * 16
        let parts = max(1, min(threads, rows / 16))
        let tileRows = min(rows, Self.floatTileRows), tileStride = cols + Self.floatTilePadding
        let partialFloats = (infer_fgemm_partial_floats(Int32(tileRows), Int32(n)) + 15) / 16 * 16
        let perThread = partialFloats + tileRows * tileStride
        guard transposedFloats + parts * perThread <= scratch.capacity else { return false }

        let xt = scratch.floats
        let blocks = (n + 15) / 16, transposeParts = min(threads, blocks)
        parallelFor(transposeParts) { p in  // whole 16-token blocks each
            let t0 = blocks * p / transposeParts * 16, t1 = min(n, blocks * (p + 1) / transposeParts * 16)
            infer_fgemm_transpose(x + t0 * xStride, xStride, Int32(t1 - t0), Int32(cols), xt + t0 * cols)
            if roundsActivationsToF16 {  // the whole (cols, 16) blocks, padding included
                let count = Int(infer_fgemm_padded_tokens(Int32(t1 - t0))) * cols
                infer_round_to_f16_precision(xt + t0 * cols, xt + t0 * cols, count)
            }
        }
        parallelFor(parts) { p in
            let (begin, end) = Self.part(p, of: parts, rows: rows)
            let partial = scratch.floats + transposedFloats + p * perThread
            let tile = partial + partialFloats
            for r0 in stride(from: begin, to: end, by: tileRows) {
                let r1 = min(end, r0 + tileRows)
                dequantizeRows(r0..<r1, into: tile, stride: tileStride)
                infer_fgemm(tile, tileStride, Int32(r1 - r0), Int32(cols), xt, Int32(n), y + r0, yStride, partial)
            }
        }
        return true
    }

    /// Floats of `scratch` the products of a batch of `n` tokens need, for matrices at most
    /// `widest` columns wide (and `dim` wide for the BLAS path's tiles), on `threads` threads.
    static func scratchFloats(tokens n: Int, widest: Int, dim: Int, threads: Int) -> Int {
        let padded = Int(infer_fgemm_padded_tokens(Int32(n)))
        let float = widest * padded + 16
            + threads * (floatTileRows * (widest + floatTilePadding) + (floatTileRows + 12) * padded + 16)
        // BLAS packs the batch's activations once per tile and the tile once: tiles of twice
        // the batch's rows keep the first at half the second.
        let blas = threads * max(2 * max(n, 32) * dim, widest)
        // The integer path needs less than the float one (bytes, not floats, per value).
        return max(float, blas)
    }

    /// The integer path of `multiply(batch:)`; false (nothing done) when `scratch` cannot
    /// hold the quantized activations and a 16-row panel per thread.
    private func multiplyQuantized(_ type: infer_type, _ data: UnsafeRawPointer, _ rowBytes: Int,
                                   batch x: UnsafePointer<Float>, count n: Int, xStride: Int,
                                   into y: UnsafeMutablePointer<Float>, yStride: Int,
                                   scratch: WeightTileScratch, threads: Int) -> Bool {
        let blocks = cols / Int(INFER_QGEMM_BLOCK)
        // (n, cols) int8 values, then (n, blocks) scales and (n, blocks) scaled sums.
        let valueBytes = (n * cols + 63) / 64 * 64, floatBytes = (n * blocks * 4 + 63) / 64 * 64
        let activationBytes = valueBytes + 2 * floatBytes
        let parts = max(1, min(threads, rows / 16))
        let panelBytes = (scratch.byteCount - activationBytes) / parts / 64 * 64
        let panelRows = max(0, panelBytes) / infer_qgemm_panel_bytes(16, Int32(cols)) * 16
        guard panelRows >= 16 else { return false }

        let q = scratch.bytes.assumingMemoryBound(to: Int8.self)
        let scales = (scratch.bytes + valueBytes).assumingMemoryBound(to: Float.self)
        let sums = (scratch.bytes + valueBytes + floatBytes).assumingMemoryBound(to: Float.self)
        let tokenParts = min(threads, n)
        parallelFor(tokenParts) { p in
            let t0 = n * p / tokenParts, t1 = n * (p + 1) / tokenParts
            infer_quantize_batch(x + t0 * xStride, xStride, Int32(t1 - t0), Int32(cols),
                                 q + t0 * cols, scales + t0 * blocks, sums + t0 * blocks)
        }
        var activations = infer_q8_batch(q: q, scale: scales, sum: sums, n: Int32(n), k: Int32(cols))
        parallelFor(parts) { p in
            let (begin, end) = Self.part(p, of: parts, rows: rows)
            let panel = scratch.bytes + activationBytes + p * panelBytes
            for r0 in stride(from: begin, to: end, by: panelRows) {
                let r1 = min(end, r0 + panelRows)
                infer_qgemm_pack(type, data, rowBytes, Int32(r0), Int32(r1), Int32(cols), panel)
                infer_qgemm(panel, Int32(r1 - r0), &activations, y + r0, yStride)
            }
        }
        return true
    }
}

/// The memory weight tiles are widened or packed into, and activations quantized into:
/// one per session, reused by every product, grown with the batch. 64-byte aligned.
final class WeightTileScratch {
    /// Floats it holds.
    private(set) var capacity = 0
    private(set) var bytes = UnsafeMutableRawPointer.allocate(byteCount: 0, alignment: 64)
    var byteCount: Int { capacity * MemoryLayout<Float>.size }
    var floats: UnsafeMutablePointer<Float> { bytes.assumingMemoryBound(to: Float.self) }

    init(capacity: Int = 0) { reserve(capacity) }

    /// Makes room for `count` floats.
    func reserve(_ count: Int) {
        guard count > capacity else { return }
        bytes.deallocate()
        bytes = .allocate(byteCount: count * MemoryLayout<Float>.size, alignment: 64)
        capacity = count
    }

    deinit { bytes.deallocate() }
}
