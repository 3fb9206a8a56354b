// Hugging Face `tokenizer.json` with its `tokenizer_config.json`, as `infer tokenize DIR` reads
// them. The input is the tokenizer.json, then optionally a 0xFF byte and the config (0xFF never
// occurs in UTF-8 JSON). A tokenizer that loads encodes and decodes texts; the config's chat
// template, if any, is rendered.

import FuzzSupport
@testable import InferKit

func fuzzTokenizerJSON(_ data: UnsafeRawPointer?, _ size: Int) -> CInt {
    let (json, configBytes) = FuzzInput(UnsafeRawBufferPointer(start: data, count: size)).restSplit
    var config: JSONValue?
    if let configBytes {
        guard let parsed = try? HFTokenizerJSON.parse(configBytes, path: "tokenizer_config.json") else { return 0 }
        config = parsed
        if let file = try? ChatTemplateFile(tokenizerConfig: parsed), let source = file.template {
            TemplateExercise.run(source: source)
        }
    }
    if let tokenizer = try? HFTokenizerJSON.load(json: json, config: config, path: "tokenizer.json") {
        TokenizerExercise.run(tokenizer)
    }
    return 0
}
