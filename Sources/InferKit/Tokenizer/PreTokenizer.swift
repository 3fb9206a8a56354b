/// Splits text into the pieces ("words") BPE merges within: split rules applied in turn, each
/// to every piece the one before produced, like llama.cpp's per-model regex lists and Hugging
/// Face's `Sequence` of `Split` pre-tokenizers.
struct PreTokenizer: Sendable, Equatable {
    let rules: [SplitRule]

    /// The end (scalar index) of every piece, in order.
    func split(_ text: ScalarText) -> [Int] {
        var ends = text.count > 0 ? [text.count] : []
        for rule in rules {
            var next: [Int] = []
            next.reserveCapacity(text.count / 3 + 1)
            var start = 0
            for end in ends {
                rule.split(text, start..<end, into: &next)
                start = end
            }
            ends = next
        }
        return ends
    }

    /// Builds the rules of a list of regexes, or names the first one infer cannot run.
    static func parse(_ regexes: [String]) -> Result<PreTokenizer, UnsupportedPattern> {
        var rules: [SplitRule] = []
        for regex in regexes {
            guard let rule = SplitPattern.rule(regex) else { return .failure(UnsupportedPattern(regex: regex)) }
            rules.append(rule)
        }
        return .success(PreTokenizer(rules: rules))
    }

    struct UnsupportedPattern: Error {
        let regex: String
    }
}
