import ArgumentParser
import Foundation
import InferKit

/// The flags that constrain what `generate` and `chat` write: a GBNF grammar, any JSON
/// object, or JSON that follows a schema. At most one.
struct OutputFormatOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The output follows this GBNF grammar (llama.cpp's syntax; start rule 'root').", valueName: "file"))
    var grammar: String?

    @Flag(name: .long, help: "The output is one JSON object.")
    var json = false

    @Option(name: .long, help: ArgumentHelp("The output is JSON that this JSON Schema accepts.", valueName: "file"))
    var jsonSchema: String?

    func validate() throws {
        let given = [grammar != nil ? "--grammar" : nil, json ? "--json" : nil, jsonSchema != nil ? "--json-schema" : nil].compactMap { $0 }
        if given.count > 1 { throw ValidationError("\(given.joined(separator: " and ")) cannot be used together: choose one") }
    }

    /// The grammar the flags ask for, nil for free text.
    /// - Throws: `InferError` naming the file and the problem (a grammar or schema that
    ///   cannot be read or used).
    func load() throws -> Grammar? {
        if json { return Grammar.jsonObject }
        if let path = grammar {
            let text = try read(path)
            do {
                return try Grammar(gbnf: text)
            } catch {
                throw InferError.invalidFile(path: path, problem: "invalid grammar: \(error)")
            }
        }
        if let path = jsonSchema {
            let text = try read(path)
            let schema: JSONValue
            do {
                schema = try JSONValue(parsing: text)
            } catch {
                throw InferError.invalidFile(path: path, problem: "not JSON: \(error)")
            }
            do {
                return try Grammar(jsonSchema: schema)
            } catch {
                throw InferError.invalidFile(path: path, problem: "\(error)")
            }
        }
        return nil
    }

    private func read(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InferError.cannotOpen(path: path, reason: "no such file or not readable")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw InferError.invalidFile(path: path, problem: "not UTF-8 text")
        }
        return text
    }
}
