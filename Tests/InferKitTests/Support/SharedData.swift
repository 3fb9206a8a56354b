import Foundation
import Testing

/// The project's shared test data (`INFER_SHARED`, default `../shared` beside the
/// repository). Tests that need it are disabled with a message where it is absent.
enum SharedData {
    static let root: String = {
        if let path = ProcessInfo.processInfo.environment["INFER_SHARED"], !path.isEmpty { return path }
        // Tests/InferKitTests/Support/SharedData.swift → repository root → ../shared
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return repository.deletingLastPathComponent().appendingPathComponent("shared").path
    }()

    static var available: Bool {
        FileManager.default.fileExists(atPath: root + "/models/stories260K.bin")
    }

    static let missingMessage: Comment = "shared test data not found: set INFER_SHARED (default ../shared)"

    static func path(_ relative: String) -> String { root + "/" + relative }
}
