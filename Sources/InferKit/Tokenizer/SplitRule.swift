/// One pre-tokenizer regex, as a hand-written matcher over Unicode scalars. A rule splits a
/// range of text the way a regex `Split` with the "isolated" behaviour does (Hugging Face's
/// `Split`, llama.cpp's `unicode_regex_split`): every match becomes a piece, and so does the
/// text between matches. Matching is leftmost-first with greedy quantifiers, as in the regex
/// engines the patterns were written for; the range's end is the end of the input (for `$`
/// and the lookahead `(?!\S)`).
enum SplitRule: Sendable, Equatable {
    /// GPT-2: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
    case gpt2
    /// Llama 3: `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
    /// ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`; Qwen 2 is the same with `\p{N}`
    /// (at most one digit per piece).
    case llama3(maxDigits: Int)
    /// A run of one set, `prefix?[set]{min,max}`, e.g. `\s?\p{L}+`, `\p{N}`, `[0-9]{3}`.
    case run(ScalarSet, prefix: RunPrefix, min: Int, max: Int)
    /// `\s+$`: the whitespace that ends the text.
    case trailingWhitespace

    enum RunPrefix: Sendable, Equatable {
        case none
        /// ` ?`
        case space
        /// `\s?`
        case whitespace
    }

    /// Appends the end (scalar index) of every piece of `range`.
    func split(_ text: ScalarText, _ range: Range<Int>, into ends: inout [Int]) {
        if case .trailingWhitespace = self {
            var start = range.upperBound
            while start > range.lowerBound && text.classes[start - 1].contains(.whitespace) { start -= 1 }
            if start > range.lowerBound && start < range.upperBound { ends.append(start) }
            if !range.isEmpty { ends.append(range.upperBound) }
            return
        }
        var position = range.lowerBound
        var gapStart = position
        while position < range.upperBound {
            guard let end = matchEnd(text, at: position, end: range.upperBound) else {
                position += 1
                continue
            }
            if gapStart < position { ends.append(position) }
            ends.append(end)
            position = end
            gapStart = end
        }
        if gapStart < range.upperBound { ends.append(range.upperBound) }
    }

    /// Where a match starting at `p` ends, or nil when none starts there.
    private func matchEnd(_ t: ScalarText, at p: Int, end e: Int) -> Int? {
        switch self {
        case .gpt2: return Self.gpt2End(t, p, e)
        case .llama3(let maxDigits): return Self.llama3End(t, p, e, maxDigits: maxDigits)
        case .run(let set, let prefix, let min, let max):
            func runLength(from q: Int) -> Int {
                var k = 0
                while q + k < e && k < max && set.contains(t[q + k], t.classes[q + k]) { k += 1 }
                return k
            }
            let hasPrefix: Bool
            switch prefix {
            case .none: hasPrefix = false
            case .space: hasPrefix = t[p] == 0x20
            case .whitespace: hasPrefix = t.classes[p].contains(.whitespace)
            }
            if hasPrefix {
                let k = runLength(from: p + 1)
                if k >= min && k > 0 { return p + 1 + k }
            }
            let k = runLength(from: p)
            return k >= min && k > 0 ? p + k : nil
        case .trailingWhitespace:
            return nil
        }
    }

    private static let apostrophe: UInt32 = 0x27, space: UInt32 = 0x20, cr: UInt32 = 0x0D, lf: UInt32 = 0x0A

    /// `'s|'t|'re|'ve|'m|'ll|'d`, case-insensitively if asked (ASCII letters only).
    private static func contractionEnd(_ t: ScalarText, _ p: Int, _ e: Int, ignoringCase: Bool) -> Int? {
        guard t[p] == apostrophe, p + 1 < e else { return nil }
        func letter(_ i: Int) -> UInt32 {
            let c = t[i]
            return ignoringCase && c >= 0x41 && c <= 0x5A ? c + 0x20 : c
        }
        switch letter(p + 1) {
        case 0x73, 0x74, 0x6D, 0x64: return p + 2  // s t m d
        case 0x72, 0x76: return p + 2 < e && letter(p + 2) == 0x65 ? p + 3 : nil  // re ve
        case 0x6C: return p + 2 < e && letter(p + 2) == 0x6C ? p + 3 : nil  // ll
        default: return nil
        }
    }

    /// `\s+(?!\S)|\s+`: a whitespace run, leaving its last character to the next piece when
    /// something follows it.
    private static func whitespaceEnd(_ t: ScalarText, _ p: Int, _ e: Int) -> Int? {
        var q = p
        while q < e && t.classes[q].contains(.whitespace) { q += 1 }
        if q - p > 1 && q < e { return q - 1 }
        return q > p ? q : nil
    }

    /// The end of the run of `cls` that starts at `start`.
    private static func runEnd(_ t: ScalarText, _ start: Int, _ e: Int, _ cls: CharacterClass) -> Int {
        var q = start + 1
        while t.has(cls, at: q, before: e) { q += 1 }
        return q
    }

    private static func gpt2End(_ t: ScalarText, _ p: Int, _ e: Int) -> Int? {
        if let end = contractionEnd(t, p, e, ignoringCase: false) { return end }
        // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: the class of what follows an optional space.
        let start = t[p] == space && p + 1 < e ? p + 1 : p
        if t.has(.letter, at: start, before: e) { return runEnd(t, start, e, .letter) }
        if t.has(.number, at: start, before: e) { return runEnd(t, start, e, .number) }
        if t.isOther(start, before: e) {
            var q = start + 1
            while t.isOther(q, before: e) { q += 1 }
            return q
        }
        return whitespaceEnd(t, p, e)
    }

    private static func llama3End(_ t: ScalarText, _ p: Int, _ e: Int, maxDigits: Int) -> Int? {
        if let end = contractionEnd(t, p, e, ignoringCase: true) { return end }
        let c = t[p]
        // `[^\r\n\p{L}\p{N}]?\p{L}+`
        if c != cr && c != lf && !t.classes[p].contains(.number) {
            let start = t.classes[p].contains(.letter) ? p : p + 1
            if t.has(.letter, at: start, before: e) { return runEnd(t, start, e, .letter) }
        }
        // `\p{N}{1,maxDigits}`
        if t.classes[p].contains(.number) {
            var q = p + 1
            while q - p < maxDigits && t.has(.number, at: q, before: e) { q += 1 }
            return q
        }
        // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
        let start = c == space && t.isOther(p + 1, before: e) ? p + 1 : p
        if t.isOther(start, before: e) {
            var q = start + 1
            while t.isOther(q, before: e) { q += 1 }
            while q < e && (t[q] == cr || t[q] == lf) { q += 1 }
            return q
        }
        // `\s*[\r\n]+`: a whitespace run up to its last line break.
        var q = p
        var lastBreak: Int?
        while q < e && t.classes[q].contains(.whitespace) {
            if t[q] == cr || t[q] == lf { lastBreak = q + 1 }
            q += 1
        }
        if let lastBreak { return lastBreak }
        return whitespaceEnd(t, p, e)
    }
}

/// A character class of a pattern: scalar ranges and Unicode classes, possibly negated.
struct ScalarSet: Sendable, Equatable {
    var classes: CharacterClass = []
    /// Sorted, non-overlapping.
    private(set) var ranges: [ClosedRange<UInt32>] = []
    var negated = false

    init(classes: CharacterClass = [], ranges: [ClosedRange<UInt32>] = [], negated: Bool = false) {
        self.classes = classes
        self.negated = negated
        var merged: [ClosedRange<UInt32>] = []
        for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = merged.last, range.lowerBound <= last.upperBound &+ 1 {
                merged[merged.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        self.ranges = merged
    }

    func contains(_ scalar: UInt32, _ cls: CharacterClass) -> Bool {
        (!cls.isDisjoint(with: classes) || inRanges(scalar)) != negated
    }

    private func inRanges(_ scalar: UInt32) -> Bool {
        var low = 0, high = ranges.count
        while low < high {
            let mid = (low + high) / 2
            if ranges[mid].upperBound < scalar { low = mid + 1 } else { high = mid }
        }
        return low < ranges.count && ranges[low].contains(scalar)
    }
}
