// JSON Schema to grammar, as a request's `response_format`, `json_schema` and tools' `parameters`
// reach it. The input is the schema's JSON text: a schema that parses is converted to GBNF,
// which must then parse and compile (a grammar the converter makes and the engine refuses is
// the converter's bug, but for one past the engine's limit on symbols and for a `$ref` cycle
// that writes nothing, which must be told in the schema's terms; a schema it cannot honour is an
// error naming the keyword). The grammar
// then writes a text, one byte at a time among the bytes it allows (chosen by the input's
// hash), and a text it completes must be JSON. The schema is also made into the grammar of
// tool calls (`tool_choice` "required", hermes format, parallel calls), as the server does.

import FuzzSupport
@testable import InferKit

/// Bytes a written text may have before the walk gives up on completing it.
private let maxTextLength = 256

func fuzzJSONSchema(_ data: UnsafeRawPointer?, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    guard let schema = try? JSONValue(parsing: String(decoding: bytes, as: UTF8.self)) else { return 0 }
    let gbnf: String
    do {
        gbnf = try JSONSchemaConverter.grammar(for: schema)
    } catch {
        fuzzCheck(!error.message.isEmpty, "a schema was refused with an empty message")
        return 0
    }
    let grammar: Grammar
    do {
        grammar = try Grammar(gbnf: gbnf)
    } catch {
        // Too many symbols in all is a limit of the engine's; a `$ref` cycle that writes nothing
        // is the schema's fault, and is told as such.
        if error.message.hasPrefix("the grammar is too large") { return 0 }
        fuzzCheck(error.isLeftRecursion, "the grammar made from a schema does not compile: \(error)\n\(gbnf)")
        do {
            _ = try Grammar(jsonSchema: schema)
            fuzzCheck(false, "Grammar(jsonSchema:) accepted a schema whose grammar does not compile")
        } catch {
            fuzzCheck(error.message.hasPrefix("JSON Schema"), "a $ref cycle told as \(error.message.debugDescription)")
        }
        return 0
    }
    var seed = InputSeed(bytes)
    write(grammar, seed: &seed)

    let tool = Tool(name: "f", parameters: schema)
    do {
        _ = try Grammar.toolCalls([tool], choice: .required, format: .hermes, parallel: true, tokenizer: tokenizer)
    } catch {
        fuzzCheck(false, "the schema converts alone but not as a tool's parameters: \(error)")
    }
    return 0
}

/// Writes a text the grammar allows; when it completes one, that text must parse as JSON.
private func write(_ grammar: Grammar, seed: inout InputSeed) {
    let automaton = GrammarAutomaton(grammar.compiled)
    var state = automaton.start
    var text: [UInt8] = []
    while text.count < maxTextLength {
        if automaton.isAccepting(state) && (seed.next(4) == 0 || automaton.isFinished(state)) { break }
        var next: [(UInt8, Int32)] = []
        for byte in UInt8.min...UInt8.max {
            let after = automaton.step(state, byte)
            if after != GrammarAutomaton.dead { next.append((byte, after)) }
        }
        if automaton.overflowed || next.isEmpty { break }
        let (byte, after) = next[seed.next(next.count)]
        text.append(byte)
        state = after
    }
    guard automaton.isAccepting(state), !automaton.overflowed else { return }
    let written = String(decoding: text, as: UTF8.self)
    fuzzCheck(String(validating: text, as: UTF8.self) != nil, "the schema's grammar wrote invalid UTF-8: \(text)")
    do {
        _ = try JSONValue(parsing: written)
    } catch {
        fuzzCheck(false, "the schema's grammar wrote \(written.debugDescription), which is not JSON: \(error)")
    }
}

/// The tool-call grammar asks the tokenizer only for Mistral's control token: any vocabulary does.
private let tokenizer: any Tokenizer = {
    do {
        return try Model(path: FuzzData.repositoryFile("Models/horatio-q8_0.gguf")).tokenizer
    } catch {
        fatalError("cannot load the default model: \(error)")
    }
}()
