import Foundation
import InferKit

// grammar-bench: what a grammar costs per generated token on a real vocabulary.
//
// Usage: grammar-bench TOKENIZER [--grammar FILE.gbnf | --schema FILE.json] [--document FILE] [--rounds N]
//
// TOKENIZER is a GGUF (the architecture need not be supported) or a tokenizer.json folder.
// The document (default: a JSON object of the shape below) is tokenized and fed through a
// GrammarMatcher token by token; at each token the allowed-token mask is computed. Reported:
// the trie's build time, the first pass (every state new: transitions and masks computed),
// and later passes over the same document with a fresh matcher sharing nothing but the trie
// (the automaton is rebuilt each round, as each generation builds its own), per token:
// mean, median and max. The mask is applied to nothing here: applying it is a filter over
// the candidates, measured by the generation runs in Benchmarks/README.md.

let arguments = CommandLine.arguments
func option(_ name: String) -> String? {
    arguments.firstIndex(of: name).flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }
}
guard arguments.count >= 2, !arguments[1].hasPrefix("--") else {
    print("usage: grammar-bench TOKENIZER [--grammar FILE.gbnf | --schema FILE.json] [--document FILE] [--rounds N]")
    exit(2)
}
let defaultDocument = """
    {"name": "Ada Lovelace", "born": 1815, "languages": ["English", "French"], "notes": "First published \
    algorithm; worked with Charles Babbage on the Analytical Engine \u{2014} caf\u{E9} \u{1F600}", \
    "address": {"city": "London", "street": "St James's Square", "number": 12}, "active": false, "score": -3.25e2}
    """
let defaultGrammar = #"""
    root   ::= object
    value  ::= object | array | string | number | ("true" | "false" | "null") ws
    object ::= "{" ws ( string ":" ws value ("," ws string ":" ws value)* )? "}" ws
    array  ::= "[" ws ( value ("," ws value)* )? "]" ws
    string ::= "\"" ( [^"\\\x7F\x00-\x1F] | "\\" (["\\/bfnrt] | "u" [0-9a-fA-F]{4}) )* "\"" ws
    number ::= "-"? ([0-9] | [1-9] [0-9]{0,15}) ("." [0-9]+)? ([eE] [-+]? [0-9]+)? ws
    ws     ::= | " " | "\n" [ \t]{0,20}
    """#

do {
    let tokenizer = try TokenizerLoader.load(path: arguments[1])
    let grammar: Grammar
    if let path = option("--grammar") {
        grammar = try Grammar(gbnf: String(contentsOfFile: path, encoding: .utf8))
    } else if let path = option("--schema") {
        grammar = try Grammar(jsonSchema: JSONValue(parsing: String(contentsOfFile: path, encoding: .utf8)))
    } else {
        grammar = try Grammar(gbnf: defaultGrammar)
    }
    let document = try option("--document").map { try String(contentsOfFile: $0, encoding: .utf8) } ?? defaultDocument
    let rounds = Int(option("--rounds") ?? "5") ?? 5
    let clock = ContinuousClock()
    func ms(_ d: Duration) -> Double { Double(d.components.seconds) * 1e3 + Double(d.components.attoseconds) * 1e-15 }

    var start = clock.now
    let trie = TokenTrie(tokenizer: tokenizer, endOfGeneration: tokenizer.special.endOfGeneration)
    print(String(format: "vocabulary %d tokens, trie %d nodes, built in %.1f ms", tokenizer.vocabularySize, trie.nodeCount, ms(clock.now - start)))
    let tokens = tokenizer.encode(document, options: EncodeOptions(addBOS: false, addEOS: false))
    print("document: \(tokens.count) tokens")

    for round in 0...rounds {
        let matcher = try GrammarMatcher(grammar: grammar, trie: trie, tokenizer: tokenizer)
        var times: [Double] = []
        var allowed = 0
        for token in tokens {
            start = clock.now
            let mask = matcher.allowedTokens()
            times.append(ms(clock.now - start))
            allowed += mask.ids.count
            guard mask.contains(token), matcher.accept(token) else {
                print("the grammar refuses token \(token) (\(tokenizer.piece(of: token)))")
                exit(1)
            }
        }
        let sorted = times.sorted()
        print(String(format: "%@: mask per token mean %.3f ms, median %.3f ms, max %.3f ms (%.0f tokens allowed on average)",
                     round == 0 ? "first pass" : "pass \(round)", times.reduce(0, +) / Double(times.count),
                     sorted[sorted.count / 2], sorted.last!, Double(allowed) / Double(tokens.count)))
    }

    // The grammar step of the sampler chain: mask and filter of every candidate.
    var random = SplitMix64(seed: 1)
    let logits = (0..<tokenizer.vocabularySize).map { _ in Float(random.nextUnitDouble() * 20 - 10) }
    let matcher = try GrammarMatcher(grammar: grammar, trie: trie, tokenizer: tokenizer)
    let step = GrammarStep(matcher: matcher)
    var stepTimes: [Double] = []
    logits.withUnsafeBufferPointer { buffer in
        for token in tokens {
            var candidates = TokenCandidates(logits: buffer)
            start = clock.now
            step.apply(to: &candidates, history: [])
            stepTimes.append(ms(clock.now - start))
            _ = matcher.accept(token)
        }
    }
    let sortedSteps = stepTimes.sorted()
    print(String(format: "grammar step (mask + filter of %d candidates): mean %.3f ms, median %.3f ms, max %.3f ms",
                 tokenizer.vocabularySize, stepTimes.reduce(0, +) / Double(stepTimes.count), sortedSteps[sortedSteps.count / 2],
                 sortedSteps.last!))
} catch {
    FileHandle.standardError.write("grammar-bench: \(error)\n".data(using: .utf8)!)
    exit(1)
}
