import Foundation

/// One file per harness process for the loaders that take a path (`Model(path:)`,
/// `TokenizerLoader.load(path:)`): each input is written over it before it is loaded. It lives
/// in /dev/shm where there is one (memory, not disk), else in the temporary directory.
public final class ScratchFile: @unchecked Sendable {
    public let path: String

    /// `name` ends the file name (`tokenizer.json`, `model.bin`); the directory is the process's own.
    public init(name: String) {
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        let directory = "\(base)/infer-fuzz-\(getpid())"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        path = directory + "/" + name
    }

    /// Replaces the file's contents with `bytes`.
    public func write(_ bytes: UnsafeRawBufferPointer) {
        let data = bytes.baseAddress.map { Data(bytes: $0, count: bytes.count) } ?? Data()
        do {
            try data.write(to: URL(fileURLWithPath: path))
        } catch {
            fatalError("cannot write the scratch file \(path): \(error)")
        }
    }

    /// Removes the file.
    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
