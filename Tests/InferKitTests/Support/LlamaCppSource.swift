import Foundation
import Testing

/// llama.cpp's source tree, where `Benchmarks/build-llama-cpp.sh` unpacks it (or
/// `LLAMA_CPP_SOURCE`): its grammars are reference material for the grammar tests, which
/// are skipped with a message where it is absent.
enum LlamaCppSource {
    static let root: String = {
        if let path = ProcessInfo.processInfo.environment["LLAMA_CPP_SOURCE"], !path.isEmpty { return path }
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return repository.appendingPathComponent("Benchmarks/llama.cpp/src/vendor/llama.cpp").path
    }()

    static var available: Bool {
        FileManager.default.fileExists(atPath: root + "/grammars/json.gbnf")
    }

    static let missingMessage: Comment = "llama.cpp's source not found: run Benchmarks/build-llama-cpp.sh or set LLAMA_CPP_SOURCE"
}
