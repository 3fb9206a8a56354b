import InferKit

/// The fields the chat and text completion endpoints share: the model, sampling, limits,
/// streaming.
struct SamplingFields {
    let parameters: GenerateParameters
    let stream: Bool
    /// `stream_options.include_usage`: a last chunk carries the token counts.
    let includeUsage: Bool

    /// - Parameters:
    ///   - modelID: the one model served; `model` may be absent, or must name it.
    ///   - defaultMaxTokens: the token budget when the request sets none (nil: until the
    ///     model stops or the context is full).
    init(_ fields: RequestFields, modelID: String, defaultMaxTokens: Int?, vocabularySize: Int) throws(APIError) {
        if let model = try fields.string("model"), model != modelID {
            throw .invalidRequest("The model '\(model)' does not exist: this server serves '\(modelID)'.",
                                  param: "model", code: "model_not_found")
        }
        if let n = try fields.integer("n"), n != 1 {
            throw .invalidValue("n", "only one choice per request is supported (n = 1)")
        }
        var p = GenerateParameters()
        // OpenAI's newer name for the budget wins over the older one.
        let newer = try fields.integer("max_completion_tokens", minimum: 0)
        let older = try fields.integer("max_tokens", minimum: 0)
        p.maxTokens = newer ?? older ?? defaultMaxTokens
        if let t = try fields.number("temperature", in: 0...2) { p.temperature = Float(t) }
        // Positive as the Float the sampler takes: 1e-320 is a positive Double but Float 0.
        if let topP = try fields.number("top_p", in: 0...1) {
            guard Float(topP) > 0 else { throw .invalidValue("top_p", "must be greater than 0") }
            p.topP = Float(topP)
        }
        if let penalty = try fields.number("presence_penalty", in: -2...2) { p.presencePenalty = Float(penalty) }
        if let penalty = try fields.number("frequency_penalty", in: -2...2) { p.frequencyPenalty = Float(penalty) }
        // llama.cpp's extensions, which its clients send.
        if let topK = try fields.integer("top_k", minimum: 0) { p.topK = topK }
        if let minP = try fields.number("min_p", in: 0...1) { p.minP = Float(minP) }
        if let penalty = try fields.number("repeat_penalty", in: 0...10) {
            guard Float(penalty) > 0 else { throw .invalidValue("repeat_penalty", "must be greater than 0") }
            p.repeatPenalty = Float(penalty)
        }
        if let seed = try fields.integer("seed") { p.seed = UInt64(bitPattern: Int64(seed)) }
        p.stop = try fields.stopStrings("stop")
        if p.stop.contains("") { throw .invalidValue("stop", "a stop string cannot be empty") }
        p.logitBias = try fields.logitBias("logit_bias", vocabularySize: vocabularySize)
        parameters = p

        stream = try fields.bool("stream") ?? false
        let includeUsage = try fields.object("stream_options")?["include_usage"] ?? .null
        guard includeUsage == .null || includeUsage.bool != nil else {
            throw .invalidType("stream_options.include_usage", expected: "a boolean")
        }
        self.includeUsage = stream && includeUsage == true
    }
}
