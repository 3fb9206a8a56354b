import Foundation
import InferKit

/// llama-server's slot save and restore (`--slot-save-path DIR`, `POST /slots/{id}?action=...`):
/// an idle slot's session (its tokens, next-token scores and KV cache) written to a file of DIR,
/// read back into a slot, or erased. Files are the library's prompt caches (`Session.save(to:)`,
/// `Session.restore(from:)`): written atomically, and refused when made with another model or
/// cache type, truncated or corrupt. A restored slot serves the next request whose prompt
/// starts with the restored tokens without computing them again.
struct SlotFiles: Sendable {
    /// The directory the files live in; names may not leave it.
    let directory: String
    let pool: SlotPool

    enum Action: String, CaseIterable {
        case save, restore, erase
    }

    /// What an action answers (llama-server's fields, in snake case on the wire).
    struct Outcome: Encodable {
        struct Timings: Encodable {
            var saveMs: Double?
            var restoreMs: Double?
        }
        let idSlot: Int
        var filename: String?
        var nSaved: Int?
        var nWritten: Int?
        var nRestored: Int?
        var nRead: Int?
        var nErased: Int?
        var timings: Timings?
    }

    /// Runs `action` on slot `id` with the file `filename` (save and restore only), off the
    /// caller's thread (files of hundreds of megabytes take a while).
    /// - Throws: `APIError`: 400 for a file name that is missing, not a plain name or given to
    ///   erase, or a file that cannot be restored (another model or cache type, truncated, corrupt,
    ///   more tokens than the slot holds); 404 for an unknown slot or a missing file; 409 for a
    ///   slot that is answering a request; 503 while shutting down; 500 when the file cannot be
    ///   written.
    func run(_ action: Action, slot id: Int, filename: String?) async throws -> Outcome {
        let path: String?
        switch (action, filename) {
        case (.erase, nil): path = nil
        case (.erase, _?): throw APIError.invalidValue("filename", "erase takes no file name")
        case (_, nil): throw APIError.missing("filename")
        case (_, let name?): path = directory + "/" + (try Self.checked(name))
        }
        if action == .restore, let path, !FileManager.default.fileExists(atPath: path) {
            throw APIError(status: .notFound, message: "There is no slot file '\(filename!)'.", type: "invalid_request_error",
                           param: "filename", code: "file_not_found")
        }
        return try await offCooperativeThreads { [pool] in
            try pool.withIdleSlot(id) { slot -> Outcome in
                let session = slot.session
                var outcome = Outcome(idSlot: id)
                let start = ContinuousClock.now
                switch action {
                case .save:
                    do {
                        try session.save(to: path!)
                    } catch {
                        throw APIError.server("Cannot save slot \(id): \(error)")
                    }
                    outcome.filename = filename
                    outcome.nSaved = session.tokens.count
                    outcome.nWritten = (try? FileManager.default.attributesOfItem(atPath: path!)[.size] as? Int) ?? nil
                    outcome.timings = .init(saveMs: milliseconds(since: start))
                case .restore:
                    do {
                        try session.restore(from: path!)
                    } catch {
                        throw APIError.invalidValue("filename", "\(error)")
                    }
                    outcome.filename = filename
                    outcome.nRestored = session.tokens.count
                    outcome.nRead = (try? FileManager.default.attributesOfItem(atPath: path!)[.size] as? Int) ?? nil
                    outcome.timings = .init(restoreMs: milliseconds(since: start))
                case .erase:
                    outcome.nErased = session.tokens.count
                    session.reset()
                }
                return outcome
            }
        }
    }

    /// `name` if it names a file in the directory: a plain name (no directories, not hidden,
    /// no control characters) of at most 255 bytes.
    static func checked(_ name: String) throws(APIError) -> String {
        func refuse(_ why: String) -> APIError { .invalidValue("filename", "'\(name)' \(why)") }
        guard !name.isEmpty else { throw .invalidValue("filename", "it is empty") }
        guard name.utf8.count <= 255 else { throw refuse("is longer than 255 bytes") }
        guard !name.contains("/"), !name.contains("\\") else { throw refuse("is not a plain file name (no directories)") }
        guard !name.hasPrefix(".") else { throw refuse("starts with a dot") }
        guard !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw refuse("holds control characters")
        }
        return name
    }
}

private func milliseconds(since start: ContinuousClock.Instant) -> Double {
    let (seconds, attoseconds) = (ContinuousClock.now - start).components
    return Double(seconds) * 1e3 + Double(attoseconds) * 1e-15
}

/// Runs `work` on a thread of its own and returns its result: for file work of seconds, which
/// would otherwise hold one of the few threads that serve HTTP.
func offCooperativeThreads<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try work() }) }
    }
}
