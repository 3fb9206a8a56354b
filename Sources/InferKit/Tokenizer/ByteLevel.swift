/// GPT-2's reversible mapping between bytes and printable characters, which byte-level BPE
/// vocabularies are written in: printable Latin-1 bytes stand for themselves and the other
/// 68 bytes (controls, space, DEL, NBSP, soft hyphen) become U+0100 onwards, so `Ġ` is a
/// space and `Ċ` a newline.
enum ByteLevel {
    /// The character of each byte.
    static let scalarOfByte: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 256)
        var next: UInt32 = 0x100
        for byte in 0..<256 {
            let printable = (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
            if printable {
                table[byte] = UInt32(byte)
            } else {
                table[byte] = next
                next += 1
            }
        }
        return table
    }()

    /// The byte of each character below U+0144 (-1 where there is none).
    static let byteOfScalar: [Int16] = {
        var table = [Int16](repeating: -1, count: 0x144)
        for (byte, scalar) in scalarOfByte.enumerated() { table[Int(scalar)] = Int16(byte) }
        return table
    }()

    /// The UTF-8 of each byte's character, to build vocabulary keys from raw bytes.
    static let utf8OfByte: [[UInt8]] = scalarOfByte.map { Array(String(Unicode.Scalar($0)!).utf8) }

    /// The raw bytes a vocabulary entry stands for, or nil when it has a character outside
    /// the mapping (such entries are not byte-level text: added tokens, for instance).
    static func decode(_ piece: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(piece.utf8.count)
        for scalar in piece.unicodeScalars {
            let value = Int(scalar.value)
            guard value < byteOfScalar.count, byteOfScalar[value] >= 0 else { return nil }
            bytes.append(UInt8(byteOfScalar[value]))
        }
        return bytes
    }

    /// The byte-level spelling (as UTF-8) of raw bytes, appended to `out`.
    static func encode(_ bytes: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        for byte in bytes { out += utf8OfByte[Int(byte)] }
    }
}
