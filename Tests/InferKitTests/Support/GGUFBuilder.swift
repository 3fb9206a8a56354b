import Foundation
@testable import InferKit

/// Writes GGUF files for tests: any metadata, any tensors, and hooks to corrupt them.
struct GGUFBuilder {
    var version: UInt32 = 3
    var alignment: Int? = nil
    var metadata: [(String, GGUFValue)] = []
    var tensors: [(name: String, shape: [Int], type: GGMLType, data: [UInt8])] = []

    mutating func add(_ key: String, _ value: GGUFValue) { metadata.append((key, value)) }

    mutating func addTensor(_ name: String, shape: [Int], floats: [Float]) {
        tensors.append((name, shape, .f32, floats.withUnsafeBytes { Array($0) }))  // little-endian hosts only
    }

    mutating func addTensor(_ name: String, shape: [Int], type: GGMLType, bytes: [UInt8]) {
        tensors.append((name, shape, type, bytes))
    }

    /// The file's bytes. `tensorOffsetOverride` replaces a tensor's stored offset.
    func bytes(tensorOffsetOverride: [String: UInt64] = [:], tensorCountOverride: UInt64? = nil,
               metadataCountOverride: UInt64? = nil) -> [UInt8] {
        var out: [UInt8] = []
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
        func string(_ s: String) { u64(UInt64(s.utf8.count)); out += Array(s.utf8) }
        func value(_ v: GGUFValue) {
            switch v {
            case .uint8(let x): out.append(x)
            case .int8(let x): out.append(UInt8(bitPattern: x))
            case .uint16(let x): withUnsafeBytes(of: x.littleEndian) { out += $0 }
            case .int16(let x): withUnsafeBytes(of: x.littleEndian) { out += $0 }
            case .uint32(let x): u32(x)
            case .int32(let x): u32(UInt32(bitPattern: x))
            case .uint64(let x): u64(x)
            case .int64(let x): u64(UInt64(bitPattern: x))
            case .float32(let x): u32(x.bitPattern)
            case .float64(let x): u64(x.bitPattern)
            case .bool(let x): out.append(x ? 1 : 0)
            case .string(let s): string(s)
            case .array(let type, let values):
                u32(type.rawValue)
                u64(UInt64(values.count))
                values.forEach(value)
            }
        }
        func typeOf(_ v: GGUFValue) -> GGUFValueType {
            switch v {
            case .uint8: return .uint8
            case .int8: return .int8
            case .uint16: return .uint16
            case .int16: return .int16
            case .uint32: return .uint32
            case .int32: return .int32
            case .uint64: return .uint64
            case .int64: return .int64
            case .float32: return .float32
            case .float64: return .float64
            case .bool: return .bool
            case .string: return .string
            case .array: return .array
            }
        }

        var allMetadata = metadata
        if let alignment { allMetadata.append(("general.alignment", .uint32(UInt32(alignment)))) }
        let align = alignment ?? 32
        u32(GGUFFile.magic)
        u32(version)
        u64(tensorCountOverride ?? UInt64(tensors.count))
        u64(metadataCountOverride ?? UInt64(allMetadata.count))
        for (key, v) in allMetadata {
            string(key)
            u32(typeOf(v).rawValue)
            value(v)
        }
        var offset = 0
        var offsets: [Int] = []
        for t in tensors {
            offsets.append(offset)
            offset += (t.data.count + align - 1) / align * align
        }
        for (t, o) in zip(tensors, offsets) {
            string(t.name)
            u32(UInt32(t.shape.count))
            t.shape.forEach { u64(UInt64($0)) }
            u32(t.type.rawValue)
            u64(tensorOffsetOverride[t.name] ?? UInt64(o))
        }
        while out.count % align != 0 { out.append(0) }
        for t in tensors {
            out += t.data
            while out.count % align != 0 { out.append(0) }
        }
        return out
    }

    /// Writes the file to a fresh temporary path and returns it.
    func write(_ bytes: [UInt8]? = nil, name: String = "model.gguf") throws -> String {
        try TemporaryFile.write(bytes ?? self.bytes(), name: name)
    }
}

/// Files written by tests, in one directory per test process that is removed at exit.
enum TemporaryFile {
    static let directory: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("infer-tests-\(getpid())")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(at: TemporaryFile.directory) }
        return url
    }()

    static func write(_ bytes: [UInt8], name: String) throws -> String {
        let url = directory.appendingPathComponent(UUID().uuidString + "-" + name)
        try Data(bytes).write(to: url)
        return url.path
    }
}
