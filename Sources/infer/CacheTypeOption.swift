import ArgumentParser
import InferKit

extension KVCacheType: ExpressibleByArgument {}

/// `--cache-type`: how a session's KV cache stores keys and values (chat, generate, serve,
/// bench, perplexity).
struct CacheTypeOption: ParsableArguments {
    @Option(name: .customLong("cache-type"),
            help: "How the KV cache stores keys and values: f32, f16 (half the memory) or q8_0 (about a quarter; heads of a multiple of 32).")
    var cacheType: KVCacheType = Session.defaultCacheType
}
