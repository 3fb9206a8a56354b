import CKernels

/// A weight matrix used in place from the model file: `rows` output features, each a
/// row of `cols` input features, in the storage type of the file.
public struct WeightMatrix: @unchecked Sendable {
    enum Storage {
        /// GGUF layout: rows of whole blocks of `type`, `rowBytes` apart.
        case ggml(GGMLType, UnsafeRawPointer, rowBytes: Int)
        /// llama2.c v2: int8 values and f32 scales per group over the flattened matrix.
        case groupedQ8(values: UnsafePointer<Int8>, scales: UnsafePointer<Float>, groupSize: Int)
    }

    public let rows: Int
    public let cols: Int
    let storage: Storage
    /// q4_K, q4_0, q6_K or q8_0 rows interleaved by 8 for CPUs with AVX-512 VNNI (Kernels/q4_K_x8.c,
    /// q4_0_x8.c, q6_K_x8.c, q8_0_x8.c), which every product reads instead of `storage`; nil for the others.
    let interleaved: InterleavedWeights?
    /// Where the matrix is kept in column parts (O and down, for `infer_decode`'s threads:
    /// `inColumnParts`, or `interleaving(into:at:columnParts:)` for an interleaved copy): the
    /// parts, part p a matrix of its own over the columns [p, p + 1) cols / P, with
    /// W x = Σ_p W_p x_p, summed in the order of p. Every product then reads the parts (the
    /// matrix itself has no `descriptor`); empty otherwise.
    let columnParts: [WeightMatrix]

    init(rows: Int, cols: Int, storage: Storage, interleaved: InterleavedWeights? = nil, columnParts: [WeightMatrix] = []) {
        self.rows = rows
        self.cols = cols
        self.storage = storage
        self.interleaved = interleaved
        self.columnParts = columnParts
    }

    /// Storage type name for display.
    public var typeName: String {
        switch storage {
        case .ggml(let type, _, _): return type.name
        case .groupedQ8(_, _, let groupSize): return "Q8_0(g\(groupSize))"
        }
    }

    /// The matrix as the C kernels take it (for a matrix kept in column parts: each part's).
    var descriptor: infer_matrix {
        precondition(columnParts.isEmpty, "a matrix kept in column parts is read part by part")
        if let interleaved {
            return infer_matrix(type: interleaved.type, data: interleaved.bytes, row_bytes: 0,
                                rows: Int32(rows), cols: Int32(cols), group_scales: nil, group_size: 0)
        }
        switch storage {
        case .ggml(let type, let data, let rowBytes):
            return infer_matrix(type: infer_type(type.rawValue), data: data, row_bytes: rowBytes,
                                rows: Int32(rows), cols: Int32(cols), group_scales: nil, group_size: 0)
        case .groupedQ8(let values, let scales, let groupSize):
            return infer_matrix(type: INFER_TYPE_Q8_GROUPED, data: UnsafeRawPointer(values), row_bytes: cols,
                                rows: Int32(rows), cols: Int32(cols), group_scales: scales, group_size: Int32(groupSize))
        }
    }

    /// Row `r` as f32 (the embedding lookup).
    func dequantizeRow(_ r: Int, into out: UnsafeMutablePointer<Float>) {
        if interleaved != nil {
            let d = descriptor
            infer_dequantize_rows(d.type, d.data, 0, Int32(r), Int32(r + 1), Int32(cols), out, cols)
            return
        }
        switch storage {
        case .ggml(let type, let data, let rowBytes):
            infer_dequantize_row(infer_type(type.rawValue), data + r * rowBytes, out, Int32(cols))
        case .groupedQ8(let values, let scales, let groupSize):
            infer_dequantize_q8_grouped(values, scales, Int32(groupSize), r * cols, out, Int32(cols))
        }
    }
}

extension WeightMatrix {
    /// Where the matrix's data begins (tied matrices share it).
    var dataStart: UnsafeRawPointer {
        switch storage {
        case .ggml(_, let data, _): return data
        case .groupedQ8(let values, _, _): return UnsafeRawPointer(values)
        }
    }

    /// Bytes the matrix occupies in the file.
    public var byteCount: Int {
        switch storage {
        case .ggml(_, _, let rowBytes): return rows * rowBytes
        case .groupedQ8(_, _, let groupSize): return rows * cols + 4 * (rows * cols / groupSize)
        }
    }
}

/// Memory for interleaved copies of weights (`infer_huge_pages_alloc`: 2 MiB-aligned, on
/// transparent huge pages where the system has them), freed with the last matrix that
/// refers to it. A model's copies share one block, so that only its end is rounded up.
final class InterleavedMemory: @unchecked Sendable {
    let start: UnsafeMutableRawPointer
    let byteCount: Int

    /// nil when the system cannot give that much memory.
    init?(byteCount: Int) {
        guard let start = infer_huge_pages_alloc(byteCount) else { return nil }
        self.start = start
        self.byteCount = byteCount
    }

    deinit { infer_huge_pages_free(start, byteCount) }
}

/// An interleaved copy of a matrix's weights: where it lies and the memory that holds it.
struct InterleavedWeights: @unchecked Sendable {
    /// INFER_TYPE_Q4_K_X8, INFER_TYPE_Q4_0_X8, INFER_TYPE_Q6_K_X8 or INFER_TYPE_Q8_0_X8.
    let type: infer_type
    let bytes: UnsafeRawPointer
    let memory: InterleavedMemory
}

extension WeightMatrix {
    /// The interleaved type generation reads this matrix faster as, if any: q4_K, q4_0, q6_K and q8_0 on a
    /// CPU whose kernels are the AVX-512 (VNNI) ones, rows in whole groups of 8.
    private var interleavedType: infer_type? {
        guard interleaved == nil, rows % 8 == 0, infer_isa_active() == INFER_ISA_AVX512,
              case .ggml(let type, _, _) = storage else { return nil }
        switch type {
        case .q4_K: return INFER_TYPE_Q4_K_X8
        case .q4_0: return INFER_TYPE_Q4_0_X8
        case .q6_K: return INFER_TYPE_Q6_K_X8
        case .q8_0: return INFER_TYPE_Q8_0_X8
        default: return nil
        }
    }

    var interleavesForSpeed: Bool { interleavedType != nil }

    /// Whether the matrix can be kept in `parts` column parts: each part whole blocks of the
    /// file's type (and of an interleaved copy's).
    func splitsIntoColumnParts(_ parts: Int) -> Bool {
        guard parts > 1, interleaved == nil, columnParts.isEmpty, case .ggml(let type, _, _) = storage else { return false }
        return cols % (parts * type.blockSize) == 0
    }

    /// Part p of `parts` column parts, over the columns [p, p + 1) cols / parts: a view of the
    /// file's rows (the same row stride, starting p parts' blocks in).
    private func columnPart(_ p: Int, of parts: Int) -> WeightMatrix {
        guard case .ggml(let type, let data, let rowBytes) = storage else { preconditionFailure("not a GGML matrix") }
        let partCols = cols / parts
        return WeightMatrix(rows: rows, cols: partCols,
                            storage: .ggml(type, data + p * (partCols / type.blockSize) * type.blockBytes, rowBytes: rowBytes))
    }

    /// This matrix kept in `parts` column parts that are views of its rows (see `columnParts`).
    func inColumnParts(_ parts: Int) -> WeightMatrix {
        precondition(splitsIntoColumnParts(parts))
        return WeightMatrix(rows: rows, cols: cols, storage: storage,
                            columnParts: (0..<parts).map { columnPart($0, of: parts) })
    }

    /// Bytes of this matrix's interleaved copy in `columnParts` parts, each rounded up to a cache
    /// line; 0 if it has none.
    func interleavedByteCount(columnParts parts: Int = 1) -> Int {
        guard let type = interleavedType else { return 0 }
        guard parts > 1 else { return (infer_interleaved_bytes(type, Int32(rows), Int32(cols)) + 63) / 64 * 64 }
        precondition(splitsIntoColumnParts(parts))
        return parts * ((infer_interleaved_bytes(type, Int32(rows), Int32(cols / parts)) + 63) / 64 * 64)
    }

    /// This matrix with an interleaved copy of its weights (see `interleaved`) written at
    /// `offset` in `memory` (`interleavedByteCount(columnParts:)` bytes from there are its own),
    /// in `columnParts` parts (see `columnParts`) if more than one: each part's rows are a
    /// strided view of the file's rows, and its copy is made like any matrix's.
    func interleaving(into memory: InterleavedMemory, at offset: Int, columnParts parts: Int = 1) -> WeightMatrix {
        guard let type = interleavedType, case .ggml(_, let data, let rowBytes) = storage else { return self }
        precondition(offset % 64 == 0 && offset + interleavedByteCount(columnParts: parts) <= memory.byteCount)
        if parts > 1 {
            let partBytes = interleavedByteCount(columnParts: parts) / parts
            let columnParts = (0..<parts).map { p in
                columnPart(p, of: parts).interleaving(into: memory, at: offset + p * partBytes)
            }
            return WeightMatrix(rows: rows, cols: cols, storage: storage, columnParts: columnParts)
        }
        let bytes = memory.start + offset
        infer_interleave(type, data, rowBytes, Int32(rows), Int32(cols), bytes)
        return WeightMatrix(rows: rows, cols: cols, storage: storage,
                            interleaved: InterleavedWeights(type: type, bytes: bytes, memory: memory))
    }

    /// This matrix with an interleaved copy of its weights in memory of its own (itself when
    /// it has none, or memory runs out: the copy only adds speed).
    func interleaving() -> WeightMatrix {
        guard interleavesForSpeed, let memory = InterleavedMemory(byteCount: interleavedByteCount()) else { return self }
        return interleaving(into: memory, at: 0)
    }

    /// Whether products read an interleaved copy of this matrix (whole or in column parts).
    var isInterleaved: Bool { interleaved != nil || !columnParts.isEmpty }
}
