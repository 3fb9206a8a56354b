import Foundation

/// The text normalization a `tokenizer.json` asks for before pre-tokenization (Qwen's NFC,
/// for instance): the Unicode normal forms and lowercasing, in sequence.
struct Normalizer: Sendable, Equatable {
    enum Step: Sendable, Equatable {
        case nfc, nfd, nfkc, nfkd, lowercase
    }

    let steps: [Step]

    func apply(_ text: String) -> String {
        var text = text
        return String(decoding: text.withUTF8(apply), as: UTF8.self)
    }

    func apply(_ utf8: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        // ASCII is unchanged by every normal form, and most text is ASCII.
        var isASCII = true
        for byte in utf8 where byte >= 0x80 {
            isASCII = false
            break
        }
        var bytes = Array(utf8)
        for step in steps {
            switch step {
            case .lowercase:
                bytes = isASCII ? bytes.map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }
                                : Array(String(decoding: bytes, as: UTF8.self).lowercased().utf8)
            case _ where isASCII:
                continue
            case .nfc:
                // The standard library's NFC is an order of magnitude faster than Foundation's.
                bytes = String(decoding: bytes, as: UTF8.self)._nfcCodeUnits
            case .nfd:
                bytes = Array(String(decoding: bytes, as: UTF8.self).decomposedStringWithCanonicalMapping.utf8)
            case .nfkc:
                bytes = Array(String(decoding: bytes, as: UTF8.self).precomposedStringWithCompatibilityMapping.utf8)
            case .nfkd:
                bytes = Array(String(decoding: bytes, as: UTF8.self).decomposedStringWithCompatibilityMapping.utf8)
            }
        }
        return bytes
    }
}
