/// The Unicode classes that pre-tokenizer patterns test (`\p{L}`, `\p{N}`, `\p{P}`, `\p{S}`,
/// `\p{M}`, `\s`), taken from the general category and White_Space property that Swift's
/// standard library reports for each scalar: the same definitions the `regex` engines behind
/// Hugging Face `tokenizers` (Oniguruma) and llama.cpp's tables use, for every script.
struct CharacterClass: OptionSet, Sendable {
    let rawValue: UInt8

    static let letter = CharacterClass(rawValue: 1 << 0)       // L: Lu Ll Lt Lm Lo
    static let number = CharacterClass(rawValue: 1 << 1)       // N: Nd Nl No
    static let punctuation = CharacterClass(rawValue: 1 << 2)  // P: Pc Pd Ps Pe Pi Pf Po
    static let symbol = CharacterClass(rawValue: 1 << 3)       // S: Sm Sc Sk So
    static let mark = CharacterClass(rawValue: 1 << 4)         // M: Mn Mc Me
    static let whitespace = CharacterClass(rawValue: 1 << 5)   // White_Space (what `\s` matches)
    static let control = CharacterClass(rawValue: 1 << 6)      // C: Cc Cf Co Cs (not Cn)

    static let letterOrNumber: CharacterClass = [.letter, .number]

    /// The class of a scalar value; surrogates and values past U+10FFFF have none.
    static func of(_ scalar: UInt32) -> CharacterClass {
        scalar < 0x10000 ? CharacterClass(rawValue: basicPlane[Int(scalar)]) : computed(scalar)
    }

    /// Classes of the Basic Multilingual Plane, looked up once: almost all text lives there,
    /// and the standard library's property lookup is a search through its tables.
    static let basicPlane: [UInt8] = (0..<0x10000).map { computed(UInt32($0)).rawValue }

    private static func computed(_ value: UInt32) -> CharacterClass {
        guard let scalar = Unicode.Scalar(value) else { return [] }
        var result: CharacterClass = scalar.properties.isWhitespace ? .whitespace : []
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            result.insert(.letter)
        case .decimalNumber, .letterNumber, .otherNumber:
            result.insert(.number)
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            result.insert(.punctuation)
        case .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol:
            result.insert(.symbol)
        case .nonspacingMark, .spacingMark, .enclosingMark:
            result.insert(.mark)
        case .control, .format, .privateUse, .surrogate:
            result.insert(.control)
        case .spaceSeparator, .lineSeparator, .paragraphSeparator, .unassigned:
            break
        @unknown default:
            break
        }
        return result
    }
}
