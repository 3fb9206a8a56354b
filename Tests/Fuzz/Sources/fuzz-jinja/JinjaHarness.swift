// The Jinja interpreter: a chat template as a GGUF or tokenizer_config.json carries it (a known
// attack surface). The input is the template source; it is parsed and rendered over a
// conversation with tool calls, under the evaluator's limits (`TemplateExercise.limits`).

import FuzzSupport

func fuzzJinja(_ data: UnsafeRawPointer?, _ size: Int) -> CInt {
    TemplateExercise.run(source: String(decoding: UnsafeRawBufferPointer(start: data, count: size), as: UTF8.self))
    return 0
}
