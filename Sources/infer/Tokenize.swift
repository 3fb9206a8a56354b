import ArgumentParser
import Foundation
import InferKit

struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the tokens a tokenizer makes of a text.",
        discussion: """
            Prints one line per token: its id, a tab, and its vocabulary entry as stored (`Ġworld`, `▁the`, \
            `<0x0A>`; backslash, tab, newline and other control characters escaped). With --ids, prints only \
            the ids, space-separated, on one line. Special-token text such as <|im_start|> becomes its id \
            unless --no-parse-special is given.
            """)

    @Argument(help: "Tokenizer: a GGUF, a llama2.c tokenizer.bin, a Hugging Face tokenizer.json or a directory holding one.")
    var file: String

    @Argument(help: "Text to tokenize (default: all of stdin).")
    var text: String?

    @Flag(help: "Print only the ids, space-separated, on one line.")
    var ids = false

    @Flag(inversion: .prefixedNo, help: "Add the BOS token, or not (default: what the tokenizer asks for).")
    var bos: Bool?

    @Flag(inversion: .prefixedNo, help: "Turn special-token text into special tokens.")
    var parseSpecial = true

    func run() throws {
        try Terminal.reportingErrors {
            let tokenizer = try TokenizerLoader.load(path: file)
            let input = try text ?? Self.readStandardInput()
            let tokens = tokenizer.encode(input, options: EncodeOptions(addBOS: bos, parseSpecial: parseSpecial))
            if ids {
                Terminal.write(tokens.map(String.init).joined(separator: " ") + "\n")
            } else {
                Terminal.write(tokens.map { "\($0)\t\(Self.escaped(tokenizer.piece(of: $0)))\n" }.joined())
            }
        }
    }

    static func readStandardInput() throws -> String {
        let data = FileHandle.standardInput.readDataToEndOfFile()
        guard let text = String(validating: data, as: UTF8.self) else {
            throw InferError.invalidArgument("the text on stdin is not valid UTF-8")
        }
        return text
    }

    /// One line per token: characters that would break the line or hide are escaped.
    static func escaped(_ piece: String) -> String {
        var out = ""
        for scalar in piece.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value):
                out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
