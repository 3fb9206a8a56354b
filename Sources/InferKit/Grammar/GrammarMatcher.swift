/// Follows one generation through a grammar: which tokens may come next (`allowedTokens`),
/// and the parse after each chosen token (`accept`). The sampler chain's `GrammarStep` masks
/// the other tokens, so every sampled text is a prefix of a sentence of the grammar, and the
/// generator ends when the grammar is complete.
///
/// Tokens are matched by their bytes, so a token may end inside a UTF-8 character, and one
/// token may cover several terminals (`",` in JSON closes a string and starts the next
/// member). The mask walks the vocabulary's `TokenTrie` from the current state of the
/// `GrammarAutomaton`, skipping every subtree whose prefix the grammar refuses; masks of
/// states met before are kept (inside a string the state repeats after each character).
///
/// One matcher serves one generation at a time.
public final class GrammarMatcher: @unchecked Sendable {
    public let grammar: Grammar
    public let trie: TokenTrie
    private let automaton: GrammarAutomaton
    private var state: Int32
    /// The ids of the grammar's token terminals, by their position in the grammar.
    private let tokenIDs: [Int32: Int]
    /// The first token's leading space is not part of the text (SentencePiece at the start
    /// of a text): the grammar does not see it.
    private var skipsLeadingSpace: Bool
    private var masks: [Int32: TokenMask] = [:]
    /// Masks kept (each is a bit per token: 19 KB for a 150k vocabulary).
    static let maskCacheLimit = 64

    /// - Parameters:
    ///   - tokenizer: resolves the grammar's `<token>` terminals written as text.
    ///   - skipsLeadingSpace: the first token's leading space is dropped from the text (as
    ///     `StreamingDetokenizer` drops it at the start of a SentencePiece text).
    /// - Throws: `GrammarError` when a token terminal names no single token of the vocabulary.
    public init(grammar: Grammar, trie: TokenTrie, tokenizer: any Tokenizer, skipsLeadingSpace: Bool = false) throws(GrammarError) {
        self.grammar = grammar
        self.trie = trie
        automaton = GrammarAutomaton(grammar.compiled)
        state = automaton.start
        self.skipsLeadingSpace = skipsLeadingSpace
        var tokenIDs: [Int32: Int] = [:]
        for (position, symbol) in grammar.compiled.symbols.enumerated() {
            guard case .token(let reference, _) = symbol else { continue }
            switch reference {
            case .id(let id):
                guard id < trie.vocabularySize else {
                    throw GrammarError("the grammar's token <[\(id)]> is outside the vocabulary of \(trie.vocabularySize) tokens")
                }
                tokenIDs[Int32(position)] = id
            case .text(let text):
                let ids = tokenizer.encode(text, options: EncodeOptions(addBOS: false, addEOS: false, parseSpecial: true))
                guard ids.count == 1 else {
                    throw GrammarError("the grammar's token \(text) is not one token of the vocabulary (it encodes as \(ids.count))")
                }
                tokenIDs[Int32(position)] = ids[0]
            }
        }
        self.tokenIDs = tokenIDs
    }

    /// A matcher for `model`'s vocabulary.
    public convenience init(grammar: Grammar, model: Model, skipsLeadingSpace: Bool = false) throws(GrammarError) {
        try self.init(grammar: grammar, trie: TokenTrie.shared(for: model), tokenizer: model.tokenizer,
                      skipsLeadingSpace: skipsLeadingSpace)
    }

    /// Set when the grammar proved too ambiguous to follow (see `GrammarAutomaton.stackLimit`
    /// and `workLimit`): tokens it would have allowed were refused.
    public var failure: GrammarError? {
        automaton.overflowed
            ? GrammarError("the grammar is too ambiguous: one text has more than \(automaton.stackLimit) parses, or one token needs more than \(automaton.workLimit) steps to follow them") : nil
    }

    /// The text so far is a whole sentence: an end-of-generation token is allowed.
    public var canEnd: Bool { automaton.isAccepting(state) }

    /// The text so far is a whole sentence and nothing may follow it.
    public var isComplete: Bool { automaton.isFinished(state) }

    /// The tokens that may come next: those whose bytes continue the grammar, those its
    /// token terminals name, and the end-of-generation tokens when the text is complete.
    public func allowedTokens() -> TokenMask {
        automaton.beginStep()
        if automaton.stateCount > GrammarAutomaton.stateLimit {
            state = automaton.compact(keeping: state)
            masks.removeAll()
        }
        if !skipsLeadingSpace, let cached = masks[state] { return cached }
        var mask = walkTrie(from: state)
        if automaton.isAccepting(state) {
            for id in trie.endOfGeneration where id < trie.vocabularySize { mask.insert(id) }
        }
        for (symbol, stack) in automaton.tokenTerminals(state) {
            guard case .token(_, let negated) = grammar.compiled.symbols[Int(symbol)], let id = tokenIDs[symbol] else { continue }
            // What follows the terminal may match nothing (an empty class `[]`): then no token
            // gets past it, as `accept` finds.
            guard automaton.state(afterTokenOn: [stack], alongside: GrammarAutomaton.dead) != GrammarAutomaton.dead else { continue }
            if negated {
                mask.insertAll(except: trie.endOfGeneration.union([id]))
            } else {
                mask.insert(id)
            }
        }
        if !skipsLeadingSpace {
            if masks.count >= Self.maskCacheLimit { masks.removeAll() }
            masks[state] = mask
        }
        return mask
    }

    /// Moves past `token`. Returns false (and changes nothing) when the grammar does not
    /// allow it here, or when following it passed the automaton's limits (`failure` is set).
    @discardableResult
    public func accept(_ token: Int) -> Bool {
        automaton.beginStep()
        let ends = trie.endOfGeneration.contains(token)
        if ends && automaton.isAccepting(state) { return true }
        var next = GrammarAutomaton.dead
        var bytes = trie.bytes(of: token)
        let startsText = skipsLeadingSpace && !bytes.isEmpty
        if !ends && !bytes.isEmpty {
            if startsText && bytes.first == 0x20 { bytes = bytes.dropFirst() }
            next = automaton.step(state, bytes)
        }
        let terminals = automaton.tokenTerminals(state).filter { symbol, _ in
            guard case .token(_, let negated) = grammar.compiled.symbols[Int(symbol)], let id = tokenIDs[symbol] else { return false }
            return negated ? id != token && !ends : id == token
        }
        if !terminals.isEmpty { next = automaton.state(afterTokenOn: terminals.map(\.stack), alongside: next) }
        guard next != GrammarAutomaton.dead else { return false }
        state = next
        if startsText { skipsLeadingSpace = false }
        return true
    }

    /// Walks the trie: a token is allowed when the grammar survives all its bytes.
    private func walkTrie(from start: Int32) -> TokenMask {
        var mask = TokenMask(count: trie.vocabularySize)
        var stateAt = [Int32](repeating: 0, count: trie.maxDepth + 1)
        stateAt[0] = start
        let skipSpace = skipsLeadingSpace
        let automaton = automaton
        trie.nodeByte.withUnsafeBufferPointer { bytes in
            trie.nodeDepth.withUnsafeBufferPointer { depths in
                trie.subtreeEnd.withUnsafeBufferPointer { subtreeEnd in
                    trie.nodeTokenStart.withUnsafeBufferPointer { tokenStart in
                        trie.nodeTokens.withUnsafeBufferPointer { tokens in
                            stateAt.withUnsafeMutableBufferPointer { stateAt in
                                var node = 1
                                let count = bytes.count
                                while node < count {
                                    let depth = Int(depths[node])
                                    let parent = stateAt[depth - 1]
                                    let byte = bytes[node]
                                    let next = skipSpace && depth == 1 && byte == 0x20 ? parent : automaton.step(parent, byte)
                                    if next < 0 {
                                        node = Int(subtreeEnd[node])
                                        continue
                                    }
                                    stateAt[depth] = next
                                    for index in Int(tokenStart[node])..<Int(tokenStart[node + 1]) {
                                        mask.insert(Int(tokens[index]))
                                    }
                                    node += 1
                                }
                            }
                        }
                    }
                }
            }
        }
        return mask
    }
}
