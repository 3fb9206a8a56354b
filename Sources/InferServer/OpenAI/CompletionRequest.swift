import InferKit

/// `POST /v1/completions`: a text to continue.
struct CompletionRequest {
    enum Prompt {
        case text(String)
        case tokens([Int])
    }

    let prompt: Prompt
    let sampling: SamplingFields
    let output: OutputFields

    /// OpenAI's token budget for text completions when the request sets none.
    static let defaultMaxTokens = 16

    /// The members infer implements (with llama.cpp's extensions).
    static let supported: Set<String> = [
        "model", "prompt", "n", "max_tokens", "temperature", "top_p", "presence_penalty", "frequency_penalty", "seed",
        "stop", "stream", "stream_options", "logit_bias", "logprobs", "user", "top_k", "min_p", "repeat_penalty",
        "grammar", "json_schema", "response_format",
    ]

    /// Members accepted only with the value that asks for nothing infer lacks.
    static let defaultsOnly: [String: [JSONValue]] = ["echo": [false], "best_of": [1], "suffix": [""]]

    /// `prompt` may be a string or a token-id array, or an array holding one of either
    /// (several prompts in one request are not supported).
    init(_ fields: RequestFields, modelID: String, vocabularySize: Int) throws(APIError) {
        try fields.rejectUnsupported(Self.supported, defaultsOnly: Self.defaultsOnly)
        guard let value = fields["prompt"] else { throw .missing("prompt") }
        let expected = "a string, an array of token ids, or an array with one of either"
        switch value {
        case .string(let text):
            prompt = .text(text)
        case .array(let items) where items.count == 1 && items[0].int == nil:
            switch items[0] {
            case .string(let text): prompt = .text(text)
            case .array(let ids): prompt = .tokens(try Self.tokenIDs(ids))
            default: throw .invalidType("prompt", expected: expected)
            }
        case .array(let items) where items.allSatisfy({ $0.int != nil }):
            prompt = .tokens(try Self.tokenIDs(items))
        case .array:
            throw .invalidValue("prompt", "only one prompt per request is supported")
        default:
            throw .invalidType("prompt", expected: expected)
        }
        sampling = try SamplingFields(fields, modelID: modelID, defaultMaxTokens: Self.defaultMaxTokens, vocabularySize: vocabularySize)
        output = try OutputFields(fields, chat: false)
    }

    private static func tokenIDs(_ items: [JSONValue]) throws(APIError) -> [Int] {
        var ids: [Int] = []
        for item in items {
            guard let id = item.int else { throw .invalidType("prompt", expected: "an array of token ids (integers)") }
            ids.append(id)
        }
        return ids
    }
}
