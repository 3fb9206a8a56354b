/// A bounds-checked little-endian cursor over a mapped file. Every read checks that
/// the bytes exist, so a truncated or hostile file ends in an error, never a crash.
struct ByteReader {
    let file: MappedFile
    private(set) var offset: Int

    init(_ file: MappedFile, offset: Int = 0) {
        self.file = file
        self.offset = offset
    }

    var remaining: Int { file.size - offset }

    func truncated(_ what: String) -> InferError {
        .invalidFile(path: file.path, problem: "file is truncated: \(what) at byte \(offset) runs past the end (\(file.size) bytes)")
    }

    mutating func read<T: FixedWidthInteger>(_: T.Type, _ what: @autoclosure () -> String) throws -> T {
        guard let bytes = file.bytes(at: offset, count: MemoryLayout<T>.size) else { throw truncated(what()) }
        offset += MemoryLayout<T>.size
        return T(littleEndian: bytes.loadUnaligned(as: T.self))
    }

    mutating func readFloat(_ what: @autoclosure () -> String) throws -> Float {
        Float(bitPattern: try read(UInt32.self, what()))
    }

    mutating func readDouble(_ what: @autoclosure () -> String) throws -> Double {
        Double(bitPattern: try read(UInt64.self, what()))
    }

    /// Raw bytes, not copied.
    mutating func readBytes(_ count: Int, _ what: @autoclosure () -> String) throws -> UnsafeRawBufferPointer {
        guard let bytes = file.bytes(at: offset, count: count) else { throw truncated(what()) }
        offset += count
        return bytes
    }

    /// UTF-8 text of `count` bytes; invalid sequences are an error naming `what`.
    mutating func readString(count: Int, _ what: @autoclosure () -> String) throws -> String {
        let bytes = try readBytes(count, what())
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw InferError.invalidFile(path: file.path, problem: "\(what()) is not valid UTF-8")
        }
        return text
    }

    mutating func skip(_ count: Int, _ what: @autoclosure () -> String) throws {
        _ = try readBytes(count, what())
    }
}
