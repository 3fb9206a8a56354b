/// A parsed GGUF file (versions 2 and 3): metadata and tensor descriptions, with tensor
/// data left in the memory mapping. Every count, size and offset is checked against
/// the file before it is used.
public final class GGUFFile: @unchecked Sendable {
    public static let magic: UInt32 = 0x4655_4747  // "GGUF" read little-endian
    public static let defaultAlignment = 32
    /// More nesting than any real file has; deeper arrays are treated as hostile.
    static let maxArrayDepth = 8

    public let file: MappedFile
    public let version: UInt32
    public let metadata: [String: GGUFValue]
    /// Keys in file order, for printing.
    public let metadataKeys: [String]
    public let tensors: [TensorInfo]
    public let alignment: Int
    /// File offset where tensor data begins.
    public let dataOffset: Int
    private let tensorIndex: [String: Int]

    /// A tensor as described by the file; `data` points into the mapping.
    public struct TensorInfo: Sendable {
        public let name: String
        /// GGML order: `shape[0]` is the row length (the contiguous dimension).
        public let shape: [Int]
        public let type: GGMLType
        /// Offset of the data from the start of the file.
        public let fileOffset: Int
        public let byteCount: Int
        public var elementCount: Int { shape.reduce(1, *) }
    }

    public convenience init(path: String) throws {
        try self.init(file: MappedFile(path: path))
    }

    public init(file: MappedFile) throws {
        self.file = file
        var reader = ByteReader(file)
        let path = file.path
        func invalid(_ problem: String) -> InferError { .invalidFile(path: path, problem: problem) }

        let magic = try reader.read(UInt32.self, "GGUF magic")
        guard magic == GGUFFile.magic else {
            throw invalid("not a GGUF file (magic \(hex(magic)), expected \"GGUF\")")
        }
        version = try reader.read(UInt32.self, "GGUF version")
        guard version == 2 || version == 3 else {
            if version == 1 { throw InferError.unsupported(path: path, what: "GGUF version 1 (convert the file with a current llama.cpp)") }
            if version.byteSwapped == 2 || version.byteSwapped == 3 {
                throw InferError.unsupported(path: path, what: "big-endian GGUF")
            }
            throw invalid("unknown GGUF version \(version)")
        }
        let tensorCount = try reader.read(UInt64.self, "tensor count")
        let metadataCount = try reader.read(UInt64.self, "metadata count")
        // Each tensor info takes at least 28 bytes and each key/value at least 13: a count
        // that cannot fit in the file is refused before anything is allocated for it.
        guard tensorCount <= UInt64(reader.remaining / 28) else {
            throw invalid("tensor count \(tensorCount) is impossible for a file of \(file.size) bytes")
        }
        guard metadataCount <= UInt64(reader.remaining / 13) else {
            throw invalid("metadata count \(metadataCount) is impossible for a file of \(file.size) bytes")
        }

        var metadata: [String: GGUFValue] = [:]
        var keys: [String] = []
        keys.reserveCapacity(Int(metadataCount))
        for index in 0..<Int(metadataCount) {
            let key = try GGUFFile.readString(&reader, "metadata key #\(index)")
            let rawType = try reader.read(UInt32.self, "type of metadata '\(key)'")
            guard let type = GGUFValueType(rawValue: rawType) else {
                throw invalid("metadata '\(key)' has unknown value type \(rawType)")
            }
            let value = try GGUFFile.readValue(&reader, type: type, key: key, depth: 0)
            if metadata.updateValue(value, forKey: key) != nil {
                throw invalid("metadata key '\(key)' appears twice")
            }
            keys.append(key)
        }
        self.metadata = metadata
        self.metadataKeys = keys

        let alignment: Int
        if let value = metadata["general.alignment"] {
            guard let a = value.int, a > 0, a & (a - 1) == 0, a <= 1 << 20 else {
                throw invalid("general.alignment \(value.summary) is not a power of two")
            }
            alignment = a
        } else {
            alignment = GGUFFile.defaultAlignment
        }
        self.alignment = alignment

        struct RawTensor { let name: String; let shape: [Int]; let rows: Int; let type: GGMLType; let offset: Int }
        var raw: [RawTensor] = []
        raw.reserveCapacity(Int(tensorCount))
        for index in 0..<Int(tensorCount) {
            let name = try GGUFFile.readString(&reader, "name of tensor #\(index)")
            let nDims = try reader.read(UInt32.self, "dimension count of tensor '\(name)'")
            guard (1...4).contains(nDims) else {
                throw invalid("tensor '\(name)' has \(nDims) dimensions (1 to 4 allowed)")
            }
            var shape: [Int] = []
            // The rows are counted apart: with a first dimension of 0 there are no elements,
            // but the other dimensions still multiply.
            var elements = 1, rows = 1
            for d in 0..<Int(nDims) {
                let n = try reader.read(UInt64.self, "dimension \(d) of tensor '\(name)'")
                guard n <= UInt64(Int32.max) else { throw invalid("tensor '\(name)' has absurd dimension \(n)") }
                shape.append(Int(n))
                let (product, overflow) = elements.multipliedReportingOverflow(by: Int(n))
                guard !overflow, product <= 1 << 48 else { throw invalid("tensor '\(name)' has an absurd element count") }
                elements = product
                if d > 0 {
                    let (product, overflow) = rows.multipliedReportingOverflow(by: Int(n))
                    guard !overflow, product <= 1 << 48 else { throw invalid("tensor '\(name)' has an absurd row count") }
                    rows = product
                }
            }
            let rawType = try reader.read(UInt32.self, "type of tensor '\(name)'")
            guard let type = GGMLType(rawValue: rawType) else {
                throw InferError.unsupported(path: path, what: "tensor '\(name)' has unknown type id \(rawType)")
            }
            let offset = try reader.read(UInt64.self, "data offset of tensor '\(name)'")
            guard offset <= UInt64(file.size) else {
                throw invalid("tensor '\(name)' data offset \(offset) is past the end of the file (\(file.size) bytes): the file is truncated or corrupt")
            }
            guard Int(offset) % alignment == 0 else {
                throw invalid("tensor '\(name)' data offset \(offset) is not a multiple of the alignment \(alignment)")
            }
            raw.append(RawTensor(name: name, shape: shape, rows: rows, type: type, offset: Int(offset)))
        }

        let dataOffset = (reader.offset + alignment - 1) / alignment * alignment
        self.dataOffset = dataOffset
        var tensors: [TensorInfo] = []
        var index: [String: Int] = [:]
        for t in raw {
            guard let rowBytes = t.type.rowBytes(t.shape[0]) else {
                throw invalid("tensor '\(t.name)' has rows of \(t.shape[0]) elements, not a multiple of the \(t.type.name) block size \(t.type.blockSize)")
            }
            let (byteCount, overflow) = rowBytes.multipliedReportingOverflow(by: t.rows)
            guard !overflow else { throw invalid("tensor '\(t.name)' of shape \(t.shape) has an absurd size") }
            let start = dataOffset + t.offset
            guard file.bytes(at: start, count: byteCount) != nil else {
                throw invalid("tensor '\(t.name)' (\(byteCount) bytes at offset \(start)) runs past the end of the file (\(file.size) bytes): the file is truncated or corrupt")
            }
            guard index.updateValue(tensors.count, forKey: t.name) == nil else {
                throw invalid("tensor name '\(t.name)' appears twice")
            }
            tensors.append(TensorInfo(name: t.name, shape: t.shape, type: t.type, fileOffset: start, byteCount: byteCount))
        }
        self.tensors = tensors
        self.tensorIndex = index
    }

    public func tensor(named name: String) -> TensorInfo? {
        tensorIndex[name].map { tensors[$0] }
    }

    /// The tensor's bytes in the mapping (already bounds-checked at load).
    public func data(of tensor: TensorInfo) -> UnsafeRawPointer {
        file.base + tensor.fileOffset
    }

    // MARK: typed metadata access

    public func string(_ key: String) -> String? { metadata[key]?.string }
    public func int(_ key: String) -> Int? { metadata[key]?.int }
    public func double(_ key: String) -> Double? { metadata[key]?.double }
    public func bool(_ key: String) -> Bool? { metadata[key]?.bool }
    public func array(_ key: String) -> [GGUFValue]? { metadata[key]?.array }

    // MARK: parsing

    static func readString(_ reader: inout ByteReader, _ what: @autoclosure () -> String) throws -> String {
        let length = try reader.read(UInt64.self, "length of \(what())")
        guard length <= UInt64(reader.remaining) else { throw reader.truncated("\(what()) (\(length) bytes)") }
        return try reader.readString(count: Int(length), what())
    }

    static func readValue(_ reader: inout ByteReader, type: GGUFValueType, key: String, depth: Int) throws -> GGUFValue {
        let what = "value of metadata '\(key)'"
        switch type {
        case .uint8: return .uint8(try reader.read(UInt8.self, what))
        case .int8: return .int8(try reader.read(Int8.self, what))
        case .uint16: return .uint16(try reader.read(UInt16.self, what))
        case .int16: return .int16(try reader.read(Int16.self, what))
        case .uint32: return .uint32(try reader.read(UInt32.self, what))
        case .int32: return .int32(try reader.read(Int32.self, what))
        case .uint64: return .uint64(try reader.read(UInt64.self, what))
        case .int64: return .int64(try reader.read(Int64.self, what))
        case .float32: return .float32(try reader.readFloat(what))
        case .float64: return .float64(try reader.readDouble(what))
        case .bool:
            let byte = try reader.read(UInt8.self, what)
            guard byte <= 1 else {
                throw InferError.invalidFile(path: reader.file.path, problem: "metadata '\(key)' has bool value \(byte)")
            }
            return .bool(byte == 1)
        case .string: return .string(try readString(&reader, what))
        case .array:
            guard depth < maxArrayDepth else {
                throw InferError.invalidFile(path: reader.file.path, problem: "metadata '\(key)' nests arrays deeper than \(maxArrayDepth)")
            }
            let rawType = try reader.read(UInt32.self, "element type of metadata '\(key)'")
            guard let elementType = GGUFValueType(rawValue: rawType) else {
                throw InferError.invalidFile(path: reader.file.path, problem: "metadata '\(key)' has unknown array element type \(rawType)")
            }
            let count = try reader.read(UInt64.self, "element count of metadata '\(key)'")
            // Every element takes at least one byte (strings and arrays at least eight).
            let minimum: UInt64 = (elementType == .string || elementType == .array) ? 8 : 1
            guard count <= UInt64(reader.remaining) / minimum else {
                throw InferError.invalidFile(path: reader.file.path, problem: "metadata '\(key)' claims \(count) elements, more than the file can hold")
            }
            var values: [GGUFValue] = []
            values.reserveCapacity(Int(count))
            for _ in 0..<Int(count) {
                values.append(try readValue(&reader, type: elementType, key: key, depth: depth + 1))
            }
            return .array(elementType: elementType, values)
        }
    }
}

func hex(_ value: UInt32) -> String {
    "0x" + String(value, radix: 16, uppercase: false)
}
