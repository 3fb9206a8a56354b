import Foundation

/// Where the harnesses find the files they load once (tokenizers, models, templates): the
/// repository, and the shared test data (`INFER_SHARED`, default `../shared` beside the
/// repository), as the test suites find them.
public enum FuzzData {
    /// The repository root: this file is Tests/Fuzz/Sources/FuzzSupport/FuzzData.swift in it.
    public static let repository: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<5 { url.deleteLastPathComponent() }
        return url.path
    }()

    public static let shared: String = {
        if let path = ProcessInfo.processInfo.environment["INFER_SHARED"], !path.isEmpty { return path }
        return URL(fileURLWithPath: repository).deletingLastPathComponent().appendingPathComponent("shared").path
    }()

    /// `relative` in the repository.
    public static func repositoryFile(_ relative: String) -> String {
        repository + "/" + relative
    }

    /// `relative` in the shared data, or nil (with a note on stderr) when it is not there:
    /// a harness then fuzzes without it rather than not at all.
    public static func sharedFile(_ relative: String) -> String? {
        let path = shared + "/" + relative
        guard FileManager.default.fileExists(atPath: path) else {
            FileHandle.standardError.write(Data("note: \(path) not found (set INFER_SHARED); fuzzing without it\n".utf8))
            return nil
        }
        return path
    }
}
