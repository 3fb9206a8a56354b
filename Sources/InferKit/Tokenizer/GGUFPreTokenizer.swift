/// llama.cpp's pre-tokenizers for the GGUF `tokenizer.ggml.pre` names (src/llama-vocab.cpp),
/// with the flags it sets alongside: Llama 3 style vocabularies look whole words up before
/// merging and add BOS by default.
struct GGUFPreTokenizer {
    let preTokenizer: PreTokenizer
    let ignoresMerges: Bool
    let addsBOS: Bool

    static func named(_ name: String) -> GGUFPreTokenizer? {
        guard let (regexes, llama3Flags) = table[name],
              case .success(let preTokenizer) = PreTokenizer.parse(regexes)
        else { return nil }
        return GGUFPreTokenizer(preTokenizer: preTokenizer, ignoresMerges: llama3Flags, addsBOS: llama3Flags)
    }

    static let gpt2 = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)"#
    static let llama3 = #"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let qwen2 = #"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    /// CJK ideographs, (sic: U+0800 through U+4E00), Hangul.
    static let cjk = "[\u{4E00}-\u{9FA5}\u{800}-\u{4E00}\u{AC00}-\u{D7FF}]+"
    /// DeepSeek's spelled-out list of cased letters (Lu, Ll, Lt).
    static let deepseekLetters = "\\s?[A-Za-z\u{B5}\u{C0}-\u{D6}\u{D8}-\u{F6}\u{F8}-\u{1BA}\u{1BC}-\u{1BF}\u{1C4}-\u{293}\u{295}-\u{2AF}\u{370}-\u{373}\u{376}\u{377}\u{37B}-\u{37D}\u{37F}\u{386}\u{388}-\u{38A}\u{38C}\u{38E}-\u{3A1}\u{3A3}-\u{3F5}\u{3F7}-\u{481}\u{48A}-\u{52F}\u{531}-\u{556}\u{10A0}-\u{10C5}\u{13A0}-\u{13F5}\u{13F8}-\u{13FD}\u{1C90}-\u{1CBA}\u{1CBD}-\u{1CBF}\u{1D00}-\u{1D2B}\u{1D6B}-\u{1D77}\u{1D79}-\u{1D9A}\u{1E00}-\u{1F15}\u{1F18}-\u{1F1D}\u{1F20}-\u{1F45}\u{1F48}-\u{1F4D}\u{1F50}-\u{1F57}\u{1F59}\u{1F5B}\u{1F5D}\u{1F5F}-\u{1F7D}\u{1F80}-\u{1FB4}\u{1FB6}-\u{1FBC}\u{1FBE}\u{1FC2}-\u{1FC4}\u{1FC6}-\u{1FCC}\u{1FD0}-\u{1FD3}\u{1FD6}-\u{1FDB}\u{1FE0}-\u{1FEC}\u{1FF2}-\u{1FF4}\u{1FF6}-\u{1FFC}\u{2102}\u{2107}\u{210A}-\u{2113}\u{2115}\u{2119}-\u{211D}\u{2124}\u{2126}\u{2128}\u{212A}-\u{212D}\u{212F}-\u{2134}\u{2139}\u{213C}-\u{213F}\u{2145}-\u{2149}\u{214E}\u{2183}\u{2184}\u{2C00}-\u{2C7B}\u{2C7E}-\u{2CE4}\u{2CEB}-\u{2CEE}\u{2CF2}\u{2CF3}\u{A640}-\u{A66D}\u{A680}-\u{A69B}\u{A722}-\u{A76F}\u{A771}-\u{A787}\u{A78B}-\u{A78E}\u{AB70}-\u{ABBF}\u{FB00}-\u{FB06}\u{FB13}-\u{FB17}\u{FF21}-\u{FF3A}\u{FF41}-\u{FF5A}\u{10400}-\u{1044F}\u{104B0}-\u{104D3}\u{104D8}-\u{104FB}\u{10C80}-\u{10CB2}\u{10CC0}-\u{10CF2}\u{118A0}-\u{118DF}\u{1E900}-\u{1E943}]+"
    static let deepseekPunctuation = "\\s?[!-/:-~\u{FF01}-\u{FF0F}\u{FF1A}-\u{FF5E}\u{2018}-\u{201F}\u{3000}-\u{3002}]+"

    /// name → (regexes, Llama 3 flags)
    static let table: [String: ([String], Bool)] = {
        var table: [String: ([String], Bool)] = [:]
        func add(_ names: [String], _ regexes: [String], llama3: Bool = false) {
            for name in names { table[name] = (regexes, llama3) }
        }
        // A GGUF without tokenizer.ggml.pre gets llama.cpp's "default" (with a warning there).
        add(["", "default"], [#"[\p{P}\$\+<=>\^~\|]+"#, gpt2, #"\p{N}+"#, "[0-9][0-9][0-9]"])
        add(["llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2"], [llama3], llama3: true)
        add(["dbrx", "smaug-bpe"], [llama3])
        add(["deepseek-llm"], ["[\r\n]", deepseekLetters, deepseekPunctuation, #"\s+$"#, cjk, #"\p{N}+"#])
        add(["deepseek-coder"], ["[\r\n]", #"\s?\p{L}+"#, #"\s?\p{P}+"#, cjk, #"\p{N}"#])
        add(["falcon"], [#"[\p{P}\$\+<=>\^~\|`]+"#, gpt2, "[0-9][0-9][0-9]"])
        add(["starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b"], [#"\p{N}"#, gpt2])
        add(["gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "jina-v1-en",
             "jina-v2-code", "roberta-bpe", "mpt", "olmo", "jais", "trillion", "exaone4", "granite-docling"], [gpt2])
        add(["qwen2", "deepseek-r1-qwen", "stablelm2", "hunyuan", "megrez"], [qwen2])
        add(["poro-chat", "bloom", "gpt3-finnish"], [" ?[^(\\s|.,!?\u{2026}\u{3002}\u{FF0C}\u{3001}\u{0964}\u{06D4}\u{060C})]+"])
        return table
    }()
}
