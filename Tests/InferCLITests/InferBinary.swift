import Foundation

/// Runs the built `infer` executable as a user would, capturing its output.
enum InferBinary {
    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    /// The `infer` built beside this test bundle (`.build/<config>/infer`).
    static let url: URL = {
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

    /// Runs `infer arguments...` with `stdin` as its input; kills it after `timeout` seconds.
    static func run(_ arguments: [String], stdin: String = "", timeout: Double = 120) throws -> Result {
        let process = Process()
        process.executableURL = url
        process.arguments = arguments
        let input = Pipe(), output = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()

        // Drain both pipes concurrently so a chatty child never blocks on a full pipe.
        let group = DispatchGroup()
        nonisolated(unsafe) var outData = Data(), errData = Data()
        group.enter()
        DispatchQueue.global().async { outData = output.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.enter()
        DispatchQueue.global().async { errData = errors.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        input.fileHandleForWriting.write(Data(stdin.utf8))
        try? input.fileHandleForWriting.close()

        let deadline = DispatchTime.now() + timeout
        let timer = DispatchSource.makeTimerSource()
        timer.schedule(deadline: deadline)
        timer.setEventHandler { if process.isRunning { process.terminate() } }
        timer.resume()
        process.waitUntilExit()
        timer.cancel()
        group.wait()
        return Result(status: process.terminationStatus,
                      stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
    }
}
