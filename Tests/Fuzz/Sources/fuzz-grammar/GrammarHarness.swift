// GBNF grammars, as a request's `grammar` field and `infer generate --grammar` carry them. The
// input is the grammar's text: it is parsed and compiled (under the parser's repetition limit),
// then a `GrammarMatcher` over the default model's 2048-token vocabulary follows up to
// `steps` tokens as generation does (the mask of allowed tokens, then one of them accepted),
// under the automaton's limits on the parses of a state and the states it keeps. Every other
// input starts the text as a SentencePiece generation does (the first token's space dropped).

import FuzzSupport
@testable import InferKit

/// The default model, for its vocabulary (and the trie the server builds of it).
private let model: Model = {
    do {
        return try Model(path: FuzzData.repositoryFile("Models/horatio-q8_0.gguf"))
    } catch {
        fatalError("cannot load the default model: \(error)")
    }
}()

/// Tokens a matcher follows per input.
private let steps = 24

func fuzzGrammar(_ data: UnsafeRawPointer?, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    guard let grammar = try? Grammar(gbnf: String(decoding: bytes, as: UTF8.self)) else { return 0 }
    _ = grammar.matches("")
    _ = grammar.matchesPrefix("{\"a\": 1}\n")
    var seed = InputSeed(bytes)
    let skipsLeadingSpace = seed.next(2) == 1
    guard let matcher = try? GrammarMatcher(grammar: grammar, model: model, skipsLeadingSpace: skipsLeadingSpace) else {
        return 0
    }
    follow(matcher, grammar, skipsLeadingSpace: skipsLeadingSpace, seed: &seed)
    return 0
}

/// Takes allowed tokens one after another. Checks: the mask holds only the vocabulary's ids;
/// an allowed token is accepted and a refused one is not; and, for a grammar of characters
/// only (no token terminals), the matcher agrees with the grammar matched byte by byte on the
/// text so far (a prefix of a sentence; a whole sentence exactly when it may end).
private func follow(_ matcher: GrammarMatcher, _ grammar: Grammar, skipsLeadingSpace: Bool, seed: inout InputSeed) {
    let vocabulary = matcher.trie.vocabularySize
    let charactersOnly = !grammar.compiled.symbols.contains { if case .token = $0 { true } else { false } }
    let reference = charactersOnly ? ByteReference(grammar) : nil
    var started = !skipsLeadingSpace
    for _ in 0..<steps {
        let allowed = matcher.allowedTokens()
        if matcher.failure != nil { return }
        let ids = allowed.ids
        fuzzCheck(ids.allSatisfy { (0..<vocabulary).contains($0) }, "a mask holds ids outside the vocabulary of \(vocabulary)")
        reference?.check(canEnd: matcher.canEnd)
        if ids.count < vocabulary {
            var refused = seed.next(vocabulary)
            while allowed.contains(refused) { refused = (refused + 1) % vocabulary }
            fuzzCheck(!matcher.accept(refused), "token \(refused) was accepted but the mask refused it")
            if matcher.failure != nil { return }
        }
        guard !ids.isEmpty else { return }
        let token = ids[seed.next(ids.count)]
        // An allowed token is accepted, unless following it passed the automaton's limits.
        fuzzCheck(matcher.accept(token) || matcher.failure != nil, "token \(token) was allowed but not accepted")
        if matcher.failure != nil { return }
        if matcher.trie.endOfGeneration.contains(token) { return }
        var piece = matcher.trie.bytes(of: token)
        if !started && !piece.isEmpty {
            if piece.first == 0x20 { piece = piece.dropFirst() }
            started = true
        }
        reference?.append(piece)
    }
}

/// The grammar matched byte by byte on the matcher's text, by an automaton of its own that
/// follows the text as it grows (each token's bytes with the work budget of a step).
private final class ByteReference {
    let automaton: GrammarAutomaton
    var state: Int32
    var text: [UInt8] = []

    init(_ grammar: Grammar) {
        automaton = GrammarAutomaton(grammar.compiled)
        state = automaton.start
    }

    func append(_ bytes: some Collection<UInt8>) {
        text += bytes
        automaton.beginStep()
        state = automaton.step(state, bytes)
    }

    func check(canEnd: Bool) {
        // Past its limits the automaton refuses input; the matcher reports it as `failure`.
        if automaton.overflowed { return }
        fuzzCheck(state != GrammarAutomaton.dead, "the matcher's text \(text) is not a prefix of the grammar")
        fuzzCheck(automaton.isAccepting(state) == canEnd,
                  "the matcher's text \(text) is \(canEnd ? "" : "not ")complete for it, but not matched byte by byte")
    }
}
