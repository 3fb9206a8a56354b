import Foundation

/// Runs the built `infer` executable as a user would, capturing its output (through
/// `CommandRunner`: no deadlock on large output, hung runs killed at the timeout).
enum InferBinary {
    typealias Result = CommandResult

    /// `INFER_BINARY` if set, else the `infer` built beside this test bundle (`.build/<config>/infer`).
    static let url: URL = {
        if let path = ProcessInfo.processInfo.environment["INFER_BINARY"], !path.isEmpty {
            return URL(fileURLWithPath: path)
        }
        var directory = Bundle.main.bundleURL
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("infer")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug/infer")
    }()

    static let sharedRoot: String = {
        if let path = ProcessInfo.processInfo.environment["INFER_SHARED"], !path.isEmpty { return path }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared").path
    }()

    static var sharedAvailable: Bool { FileManager.default.fileExists(atPath: sharedRoot + "/models/stories260K.bin") }

    static func shared(_ relative: String) -> String { sharedRoot + "/" + relative }

    /// A directory for files the tests write, removed when the test process exits.
    static let scratchDirectory: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("infer-cli-tests-\(getpid())")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(at: InferBinary.scratchDirectory) }
        return url
    }()

    /// Writes `contents` to a new file in the scratch directory and returns its path.
    static func scratchFile(_ name: String, _ contents: String) throws -> String {
        let url = scratchDirectory.appendingPathComponent(UUID().uuidString + "-" + name)
        try Data(contents.utf8).write(to: url)
        return url.path
    }

    /// Runs `infer arguments...`, with `stdin` as its input (none: /dev/null); kills it
    /// after `timeout` seconds.
    static func run(_ arguments: [String], stdin: String? = nil, timeout: Double = 120) throws -> Result {
        try CommandRunner.run(url, arguments, stdin: stdin.map { Data($0.utf8) }, timeout: timeout)
    }
}
