@testable import InferKit

/// A tokenizer that is just a list of byte strings (nil: a control token with no text), for
/// tests that choose their vocabulary token by token. Encoding is greedy longest match.
struct ListTokenizer: Tokenizer {
    let entries: [[UInt8]?]
    var special: SpecialTokens

    init(_ entries: [[UInt8]?], eos: Int? = nil) {
        self.entries = entries
        special = SpecialTokens(eos: eos)
    }

    /// Text entries, with nil for control tokens.
    init(texts: [String?], eos: Int? = nil) {
        self.init(texts.map { $0.map { Array($0.utf8) } }, eos: eos)
    }

    var vocabularySize: Int { entries.count }
    var addsBOSByDefault: Bool { false }
    var addsEOSByDefault: Bool { false }
    var stripsLeadingSpace: Bool { false }

    func encode(_ text: String, options: EncodeOptions) -> [Int] {
        var bytes = Array(text.utf8)[...]
        var ids: [Int] = []
        while !bytes.isEmpty {
            let best = entries.indices.filter { entries[$0].map { !$0.isEmpty && bytes.starts(with: $0) } ?? false }
                .max { entries[$0]!.count < entries[$1]!.count }
            guard let best else { return ids }
            ids.append(best)
            bytes = bytes.dropFirst(entries[best]!.count)
        }
        return ids
    }

    func bytes(of id: Int) -> [UInt8] { entries.indices.contains(id) ? entries[id] ?? [] : [] }
    func piece(of id: Int) -> String { String(decoding: bytes(of: id), as: UTF8.self) }
}
