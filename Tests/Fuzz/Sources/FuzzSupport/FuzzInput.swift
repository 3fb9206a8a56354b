/// Reads a fuzz input as a few choices followed by data: harnesses that test more than one
/// thing take their choices from the first bytes, so that the fuzzer can steer them.
public struct FuzzInput {
    public let bytes: UnsafeRawBufferPointer
    public private(set) var offset = 0

    public init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// The next byte, or 0 past the end.
    public mutating func byte() -> UInt8 {
        guard offset < bytes.count else { return 0 }
        defer { offset += 1 }
        return bytes[offset]
    }

    /// One of `count` choices.
    public mutating func choice(_ count: Int) -> Int {
        Int(byte()) % count
    }

    /// The bytes not read yet.
    public var rest: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[min(offset, bytes.count)...])
    }

    /// The bytes not read yet as text (invalid UTF-8 becomes U+FFFD, as a server's text would be
    /// after validation).
    public var restAsText: String {
        String(decoding: rest, as: UTF8.self)
    }

    /// The bytes not read yet, cut at the first `separator` byte: (before, after), or
    /// (everything, nil) when there is none. Harnesses that feed two files take them so.
    public var restSplit: (UnsafeRawBufferPointer, UnsafeRawBufferPointer?) {
        let rest = self.rest
        guard let cut = rest.firstIndex(of: FuzzInput.separator) else { return (rest, nil) }
        return (UnsafeRawBufferPointer(rebasing: rest[..<cut]), UnsafeRawBufferPointer(rebasing: rest[(cut + 1)...]))
    }

    /// 0xFF never occurs in UTF-8 text, so it can separate two JSON documents.
    public static let separator: UInt8 = 0xFF
}
