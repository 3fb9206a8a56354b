/// A grammar compiled for matching one byte at a time: every rule is a list of alternatives,
/// every alternative a sequence of symbols, and every symbol a set of bytes, a reference to
/// a rule, or a whole token. Strings and character classes become their UTF-8 bytes (a class
/// with characters of several lengths becomes a rule with an alternative per byte pattern);
/// groups and repetitions become rules of their own, as llama.cpp rewrites them:
///
///     S{m,n}  →  S … S (m times) R(n-m),   R(k) ::= S R(k-1) | ε,  R(1) ::= S | ε
///     S{m,}   →  S … S (m times) R,        R    ::= S R | ε
///
/// All alternatives' symbols live in one array, each alternative followed by `.end`, so a
/// parse position is one index into it.
struct ByteGrammar: Sendable {
    enum Symbol: Sendable, Equatable {
        /// Matches one byte in the set (index into `byteSets`).
        case bytes(Int32)
        /// Matches the rule (index into `rules`).
        case rule(Int32)
        /// Matches one whole token: this one, or (negated) any other.
        case token(GrammarSyntax.TokenReference, negated: Bool)
        /// The alternative is complete.
        case end
    }

    /// Every alternative's symbols, back to back, each alternative ended by `.end`.
    private(set) var symbols: [Symbol] = []
    /// The start of each alternative of each rule, in `symbols`.
    private(set) var rules: [[Int32]] = []
    /// Rule names, for errors (rules made for groups and repetitions are named after the
    /// rule they came from).
    private(set) var ruleNames: [String] = []
    private(set) var byteSets: [ByteSet] = []
    let root: Int32
    /// Bytes no byte set of the grammar tells apart share a class: from any state they lead
    /// to the same state, so a transition is computed once per class. `byteClass[b]` is the
    /// class of byte b; `classBytes[c]` its bytes.
    private(set) var byteClass: [UInt8] = []
    private(set) var classBytes: [[UInt8]] = []

    /// Symbols a compiled grammar may have. Repetitions are copies (`x{2000}` is 2000 symbols,
    /// `x{0,2000}` 2000 rules), so a short text can stand for a grammar of billions of symbols:
    /// past this it is refused, before its memory is taken.
    static let maxSymbols = 1_000_000

    /// Compiles a parsed grammar. Throws when a rule is referenced but not defined, when
    /// there is no `root`, when a rule is left-recursive (it could start with itself,
    /// which a top-down matcher cannot follow), and when it expands past `maxSymbols`.
    init(_ syntax: GrammarSyntax) throws(GrammarError) {
        var builder = Builder()
        for rule in syntax.rules { builder.declare(rule.name) }
        guard let root = builder.ruleIndex["root"] else { throw GrammarError("the grammar has no 'root' rule") }
        for rule in syntax.rules {
            let index = builder.ruleIndex[rule.name]!
            try builder.define(index, alternatives: try builder.alternatives(of: rule.body, in: rule.name, line: rule.line))
        }
        self.root = root
        symbols = builder.symbols
        rules = builder.rules
        ruleNames = builder.names
        byteSets = builder.byteSets
        (byteClass, classBytes) = Self.byteClasses(builder.byteSets)
        try checkLeftRecursion()
    }

    /// The partition of the 256 bytes by membership in every set.
    private static func byteClasses(_ sets: [ByteSet]) -> ([UInt8], [[UInt8]]) {
        var classes: [[UInt8]] = [Array(0...255)]
        for set in sets {
            var refined: [[UInt8]] = []
            for members in classes {
                let inside = members.filter { set.contains($0) }, outside = members.filter { !set.contains($0) }
                if !inside.isEmpty { refined.append(inside) }
                if !outside.isEmpty { refined.append(outside) }
            }
            classes = refined
        }
        var byteClass = [UInt8](repeating: 0, count: 256)
        for (index, members) in classes.enumerated() {
            for byte in members { byteClass[Int(byte)] = UInt8(index) }
        }
        return (byteClass, classes)
    }

    /// Whether the rule can match the empty string, for every rule. A worklist: each
    /// alternative waits on the first symbol that keeps it from being empty, and is looked at
    /// again only when that rule is found nullable (passes over every rule until nothing
    /// changes would cost the square of a long chain of rules).
    private func nullableRules() -> [Bool] {
        var nullable = [Bool](repeating: false, count: rules.count)
        // The alternatives (rule, position reached) waiting on each rule.
        var waiting = [[(rule: Int32, position: Int32)]](repeating: [], count: rules.count)
        var found: [Int32] = []
        func advance(_ rule: Int32, from start: Int) {
            guard !nullable[Int(rule)] else { return }
            var position = start
            while true {
                switch symbols[position] {
                case .end:
                    nullable[Int(rule)] = true
                    found.append(rule)
                    return
                case .rule(let other) where nullable[Int(other)]:
                    position += 1
                case .rule(let other):
                    waiting[Int(other)].append((rule, Int32(position + 1)))
                    return
                default:
                    return
                }
            }
        }
        for (rule, starts) in rules.enumerated() {
            for start in starts { advance(Int32(rule), from: Int(start)) }
        }
        while let rule = found.popLast() {
            let waiters = waiting[Int(rule)]
            waiting[Int(rule)] = []
            for (other, position) in waiters { advance(other, from: Int(position)) }
        }
        return nullable
    }

    /// A rule that can reach itself before matching anything is refused, naming it.
    private func checkLeftRecursion() throws(GrammarError) {
        let nullable = nullableRules()
        // The rules each rule can begin with.
        var leftCorners = [[Int32]](repeating: [], count: rules.count)
        for (rule, starts) in rules.enumerated() {
            for start in starts {
                var position = Int(start)
                while case .rule(let other) = symbols[position] {
                    leftCorners[rule].append(other)
                    guard nullable[Int(other)] else { break }
                    position += 1
                }
            }
        }
        // Depth-first search for a cycle.
        var color = [UInt8](repeating: 0, count: rules.count)  // 0 new, 1 on the path, 2 done
        for start in rules.indices where color[start] == 0 {
            var path: [(rule: Int, next: Int)] = [(start, 0)]
            color[start] = 1
            while let (rule, next) = path.last {
                if next < leftCorners[rule].count {
                    path[path.count - 1].next += 1
                    let other = Int(leftCorners[rule][next])
                    if color[other] == 1 {
                        throw GrammarError("rule '\(ruleNames[other])' is left-recursive: it can begin with itself",
                                           isLeftRecursion: true)
                    }
                    if color[other] == 0 {
                        color[other] = 1
                        path.append((other, 0))
                    }
                } else {
                    color[rule] = 2
                    path.removeLast()
                }
            }
        }
    }

    /// Builds the flat arrays from expressions.
    private struct Builder {
        var symbols: [Symbol] = []
        var rules: [[Int32]] = []
        var names: [String] = []
        var ruleIndex: [String: Int32] = [:]
        var byteSets: [ByteSet] = []
        var byteSetIndex: [ByteSet: Int32] = [:]
        /// Rules made for character classes, shared by every use of the same class.
        var classRules: [[[ByteSet]]: Int32] = [:]
        /// The byte patterns of each class met: a grammar may repeat one class thousands of times.
        var classSequences: [[ClosedRange<UInt32>]: [[ByteSet]]] = [:]

        mutating func declare(_ name: String) {
            ruleIndex[name] = newRule(name)
        }

        mutating func newRule(_ name: String) -> Int32 {
            rules.append([])
            names.append(name)
            return Int32(rules.count - 1)
        }

        mutating func define(_ rule: Int32, alternatives: [[Symbol]]) throws(GrammarError) {
            try spend(alternatives.count)
            var starts: [Int32] = []
            for alternative in alternatives {
                starts.append(Int32(symbols.count))
                symbols += alternative
                symbols.append(.end)
            }
            rules[Int(rule)] = starts
        }

        mutating func byteSet(_ set: ByteSet) -> Symbol {
            if let index = byteSetIndex[set] { return .bytes(index) }
            byteSets.append(set)
            byteSetIndex[set] = Int32(byteSets.count - 1)
            return .bytes(Int32(byteSets.count - 1))
        }

        /// The alternatives an expression stands for, each a sequence of symbols.
        mutating func alternatives(of expression: GrammarSyntax.Expression, in rule: String,
                                   line: Int) throws(GrammarError) -> [[Symbol]] {
            if case .alternatives(let options) = expression {
                var result: [[Symbol]] = []
                for option in options { result.append(try sequence(of: option, in: rule, line: line)) }
                return result
            }
            return [try sequence(of: expression, in: rule, line: line)]
        }

        /// The symbols of one sequence; nested alternatives become rules.
        mutating func sequence(of expression: GrammarSyntax.Expression, in rule: String,
                               line: Int) throws(GrammarError) -> [Symbol] {
            switch expression {
            case .sequence(let items):
                var result: [Symbol] = []
                for item in items { result += try sequence(of: item, in: rule, line: line) }
                return result
            case .alternatives:
                let sub = newRule(rule)
                try define(sub, alternatives: try alternatives(of: expression, in: rule, line: line))
                return [.rule(sub)]
            case .literal(let codePoints):
                let bytes = codePoints.flatMap { UTF8Sequences.encode($0) }
                try spend(bytes.count)
                return bytes.map { byteSet(ByteSet($0...$0)) }
            case .characterClass(let ranges, let negated):
                return try characterClass(negated ? UTF8Sequences.complement(ranges) : ranges, in: rule)
            case .anyCharacter:
                return try characterClass([0...UTF8Sequences.maxCodePoint], in: rule)
            case .reference(let name):
                guard let index = ruleIndex[name] else {
                    throw GrammarError("rule '\(rule)' refers to '\(name)', which is not defined", line: line, column: nil)
                }
                return [.rule(index)]
            case .token(let reference, let negated):
                return [.token(reference, negated: negated)]
            case .repetition(let item, let min, let max):
                return try repetition(item, min: min, max: max, in: rule, line: line)
            }
        }

        /// One byte set when every character is one byte; otherwise a rule whose
        /// alternatives are the byte patterns.
        mutating func characterClass(_ ranges: [ClosedRange<UInt32>], in rule: String) throws(GrammarError) -> [Symbol] {
            let sequences = classSequences[ranges] ?? UTF8Sequences.sequences(ranges)
            classSequences[ranges] = sequences
            if sequences.count == 1 {
                try spend(sequences[0].count)
                return sequences[0].map { byteSet($0) }
            }
            if let existing = classRules[sequences] { return [.rule(existing)] }
            try spend(sequences.reduce(0) { $0 + $1.count })
            let sub = newRule(rule)
            classRules[sequences] = sub
            try define(sub, alternatives: sequences.map { $0.map { byteSet($0) } })
            return [.rule(sub)]
        }

        mutating func repetition(_ item: GrammarSyntax.Expression, min: Int, max: Int?, in rule: String,
                                 line: Int) throws(GrammarError) -> [Symbol] {
            var once = try sequence(of: item, in: rule, line: line)
            if max == 0 { return [] }
            // Repeat one symbol: a longer item becomes a rule first.
            if once.count != 1 {
                let sub = newRule(rule)
                try define(sub, alternatives: [once])
                once = [.rule(sub)]
            }
            // The copies and their rules, counted before they are made.
            try spend(min + 3 * ((max ?? min + 1) - min))
            var result: [Symbol] = Array(repeating: once[0], count: min)
            if let max {
                // R(1) ::= S | ε;  R(k) ::= S R(k-1) | ε
                var previous: Int32?
                for _ in 0..<(max - min) {
                    let optional = newRule(rule)
                    try define(optional, alternatives: [once + (previous.map { [Symbol.rule($0)] } ?? []), []])
                    previous = optional
                }
                if let previous { result.append(.rule(previous)) }
            } else {
                // R ::= S R | ε
                let loop = newRule(rule)
                try define(loop, alternatives: [once + [.rule(loop)], []])
                result.append(.rule(loop))
            }
            return result
        }

        /// Symbols made so far, counting those of sequences not yet in a rule.
        var spent = 0

        /// Counts `count` more symbols against `maxSymbols`, before they are made.
        mutating func spend(_ count: Int) throws(GrammarError) {
            spent += count
            guard spent <= ByteGrammar.maxSymbols else {
                throw GrammarError("the grammar is too large: its repetitions expand to more than \(ByteGrammar.maxSymbols) symbols")
            }
        }
    }
}
