import Foundation
import InferKit

/// `--prompt-cache FILE` of generate and chat: start from a saved state when the file exists and
/// can be trusted; otherwise say why on stderr and compute the prompt as usual.
enum PromptCache {
    static func restore(_ session: Session, from path: String) {
        guard FileManager.default.fileExists(atPath: path) else { return }
        do {
            try session.restore(from: path)
        } catch {
            Terminal.note("note: not using the prompt cache: \(error)")
        }
    }

    static func restore(_ chat: ChatSession, from path: String) {
        guard FileManager.default.fileExists(atPath: path) else { return }
        do {
            let count = try chat.restore(from: path)
            Terminal.note("continuing the conversation in \(path) (\(count) messages)")
        } catch {
            Terminal.note("note: not using the prompt cache: \(error)")
        }
    }
}
