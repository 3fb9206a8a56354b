/// A text fragment decoded once for the pre-tokenizer: its Unicode scalars, the class of
/// each, and where each starts in the UTF-8 bytes, so split rules work on scalars while the
/// pieces they produce stay byte ranges of the original text.
struct ScalarText {
    private(set) var scalars: [UInt32] = []
    private(set) var classes: [CharacterClass] = []
    /// `offsets[i]` is the UTF-8 offset of scalar `i`; `offsets[count]` is the byte count.
    private(set) var offsets: [Int] = []

    var count: Int { scalars.count }

    /// Decodes well-formed UTF-8 (text that came from a Swift `String`).
    init(utf8 bytes: UnsafeBufferPointer<UInt8>) {
        scalars.reserveCapacity(bytes.count)
        classes.reserveCapacity(bytes.count)
        offsets.reserveCapacity(bytes.count + 1)
        let table = CharacterClass.basicPlane
        var i = 0
        while i < bytes.count {
            let lead = bytes[i]
            var value: UInt32
            var length: Int
            switch lead {
            case 0..<0x80: value = UInt32(lead); length = 1
            case 0xC0..<0xE0: value = UInt32(lead & 0x1F); length = 2
            case 0xE0..<0xF0: value = UInt32(lead & 0x0F); length = 3
            default: value = UInt32(lead & 0x07); length = 4
            }
            length = min(length, bytes.count - i)
            for k in 1..<max(length, 1) { value = value << 6 | UInt32(bytes[i + k] & 0x3F) }
            scalars.append(value)
            classes.append(value < 0x10000 ? CharacterClass(rawValue: table[Int(value)]) : CharacterClass.of(value))
            offsets.append(i)
            i += length
        }
        offsets.append(bytes.count)
    }

    subscript(i: Int) -> UInt32 { scalars[i] }

    func has(_ cls: CharacterClass, at i: Int, before end: Int) -> Bool {
        i < end && !classes[i].isDisjoint(with: cls)
    }

    /// `[^\s\p{L}\p{N}]`: anything but whitespace, letters and numbers (marks, punctuation,
    /// symbols, emoji, format characters, unassigned code points).
    func isOther(_ i: Int, before end: Int) -> Bool {
        i < end && classes[i].isDisjoint(with: [.whitespace, .letter, .number])
    }
}
