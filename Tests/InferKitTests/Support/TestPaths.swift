import Foundation

/// The folders the tests read their fixtures from, found from this file's place
/// (Tests/InferKitTests/Support), so that a test file can live in any subfolder.
enum TestPaths {
    /// Tests/InferKitTests, which holds Fixtures/.
    static let target = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    /// Tests/, which holds the fixtures every test target shares (Tests/Fixtures) and Fuzz/.
    static let tests = target.deletingLastPathComponent()
    /// The repository's root.
    static let repository = tests.deletingLastPathComponent()
}
