/// Python's `str` methods on Swift strings, by Unicode code point (Python's unit of string
/// length, indexing and search) rather than by grapheme cluster (Swift's `Character`).
extension String {
    var scalarCount: Int { unicodeScalars.count }

    private init(scalars: some Sequence<Unicode.Scalar>) {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        self = String(view)
    }

    /// `str.strip(chars)`: without `chars`, Python whitespace.
    func pythonStrip(_ chars: String? = nil, leading: Bool = true, trailing: Bool = true) -> String {
        let set = chars.map { Set($0.unicodeScalars) }
        func strip(_ c: Unicode.Scalar) -> Bool { set?.contains(c) ?? c.isPythonWhitespace }
        let scalars = Array(unicodeScalars)
        var start = 0
        var end = scalars.count
        if leading { while start < end, strip(scalars[start]) { start += 1 } }
        if trailing { while end > start, strip(scalars[end - 1]) { end -= 1 } }
        return String(scalars: scalars[start..<end])
    }

    /// `str.split(sep, maxsplit)` (or `rsplit` when `fromEnd`): without a separator, runs of
    /// whitespace separate and empty pieces are dropped.
    func pythonSplit(_ separator: String?, maxSplit: Int = -1, fromEnd: Bool = false) throws -> [String] {
        let scalars = Array(unicodeScalars)
        guard let separator else {
            var words: [String] = []
            var i = 0
            var splits = 0
            if fromEnd {
                var end = scalars.count
                while end > 0 {
                    while end > 0, scalars[end - 1].isPythonWhitespace { end -= 1 }
                    guard end > 0 else { break }
                    if maxSplit >= 0 && splits == maxSplit {
                        words.append(String(scalars: scalars[0..<end]))
                        break
                    }
                    var start = end
                    while start > 0, !scalars[start - 1].isPythonWhitespace { start -= 1 }
                    words.append(String(scalars: scalars[start..<end]))
                    splits += 1
                    end = start
                }
                return words.reversed()
            }
            while i < scalars.count {
                while i < scalars.count, scalars[i].isPythonWhitespace { i += 1 }
                guard i < scalars.count else { break }
                if maxSplit >= 0 && splits == maxSplit {
                    words.append(String(scalars: scalars[i...]))
                    break
                }
                let start = i
                while i < scalars.count, !scalars[i].isPythonWhitespace { i += 1 }
                words.append(String(scalars: scalars[start..<i]))
                splits += 1
            }
            return words
        }
        let sep = Array(separator.unicodeScalars)
        guard !sep.isEmpty else { throw Jinja.Failure("empty separator") }
        var positions = matches(of: sep, in: scalars)
        if maxSplit >= 0 && positions.count > maxSplit {
            positions = fromEnd ? Array(positions.suffix(maxSplit)) : Array(positions.prefix(maxSplit))
        }
        var pieces: [String] = []
        var start = 0
        for p in positions {
            pieces.append(String(scalars: scalars[start..<p]))
            start = p + sep.count
        }
        pieces.append(String(scalars: scalars[start...]))
        return pieces
    }

    /// Non-overlapping occurrences of `needle`, left to right.
    private func matches(of needle: [Unicode.Scalar], in haystack: [Unicode.Scalar]) -> [Int] {
        var positions: [Int] = []
        var i = 0
        while i + needle.count <= haystack.count {
            if haystack[i..<i + needle.count].elementsEqual(needle) {
                positions.append(i)
                i += needle.count
            } else {
                i += 1
            }
        }
        return positions
    }

    /// `str.replace(old, new, count)`; an empty `old` inserts `new` between all characters.
    func pythonReplace(_ old: String, _ new: String, count: Int = -1) -> String {
        let scalars = Array(unicodeScalars)
        let oldScalars = Array(old.unicodeScalars)
        var out = String.UnicodeScalarView()
        var replaced = 0
        func canReplace() -> Bool { count < 0 || replaced < count }
        if oldScalars.isEmpty {
            for c in scalars {
                if canReplace() {
                    out.append(contentsOf: new.unicodeScalars)
                    replaced += 1
                }
                out.append(c)
            }
            if canReplace() { out.append(contentsOf: new.unicodeScalars) }
            return String(out)
        }
        var i = 0
        while i < scalars.count {
            if canReplace(), i + oldScalars.count <= scalars.count, scalars[i..<i + oldScalars.count].elementsEqual(oldScalars) {
                out.append(contentsOf: new.unicodeScalars)
                replaced += 1
                i += oldScalars.count
            } else {
                out.append(scalars[i])
                i += 1
            }
        }
        return String(out)
    }

    /// `str.find` / `str.rfind`: the code-point index, or -1.
    func pythonFind(_ needle: String, fromEnd: Bool = false) -> Int {
        let haystack = Array(unicodeScalars)
        let n = Array(needle.unicodeScalars)
        guard n.count <= haystack.count else { return -1 }
        let candidates = Array(0...(haystack.count - n.count))
        for i in fromEnd ? candidates.reversed() : candidates where haystack[i..<i + n.count].elementsEqual(n) {
            return i
        }
        return -1
    }

    /// `str.count`: non-overlapping occurrences (an empty needle counts the gaps).
    func pythonCount(_ needle: String) -> Int {
        let n = Array(needle.unicodeScalars)
        if n.isEmpty { return scalarCount + 1 }
        return matches(of: n, in: Array(unicodeScalars)).count
    }

    /// `str.title()`: each run of cased letters starts upper case; any other character
    /// (digit, apostrophe) starts a new word, so "they're" becomes "They'Re".
    func pythonTitle() -> String {
        var out = ""
        var previousCased = false
        for c in unicodeScalars {
            out += previousCased ? c.properties.lowercaseMapping : c.properties.titlecaseMapping
            previousCased = c.properties.isCased
        }
        return out
    }

    /// `str.capitalize()`: the first character in title case, the rest lower case.
    func pythonCapitalize() -> String {
        guard let first = unicodeScalars.first else { return "" }
        return first.properties.titlecaseMapping + String(scalars: unicodeScalars.dropFirst()).lowercased()
    }
}
