import Foundation
import Testing
@testable import InferKit

/// The inputs the fuzz harnesses found that crashed infer, hung it or ran it out of memory,
/// kept in Tests/Fuzz/Regressions/<harness>/ (see Tests/Fuzz/README.md). Each is read here the
/// way its harness reads it, without the fuzzer: every one must end in a clear error, quickly.
/// `make fuzz-smoke` also replays them through the harnesses themselves, under the sanitizers.
struct FuzzRegressionTests {
    static let directory: String = {
        // Tests/InferKitTests/FuzzRegressionTests.swift → repository root
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fuzz/Regressions").path
    }()

    /// The committed inputs of one harness.
    static func inputs(_ harness: String) -> [String] {
        let folder = directory + "/" + harness
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.sorted().map { folder + "/" + $0 }
    }

    /// Runs `body` and checks it took less than a second (a hang was the finding for some).
    static func quickly<T>(_ input: String, _ body: () throws -> T) rethrows -> T {
        let start = ContinuousClock.now
        defer {
            let elapsed = ContinuousClock.now - start
            #expect(elapsed < .seconds(1), "\(input) took \(elapsed)")
        }
        return try body()
    }

    @Test func llama2CModelHeadersAreCheckedAgainstTheFileBeforeAnythingIsSizedByThem() throws {
        let inputs = Self.inputs("fuzz-llama2c-model")
        #expect(!inputs.isEmpty)
        for input in inputs {
            let error = Self.quickly(input) { #expect(throws: InferError.self) { try Model(path: input) } }
            #expect(error.map { "\($0)".contains(input) } ?? false, "\(String(describing: error))")
        }
    }

    @Test func aHeaderClaimingMillionsOfLayersIsCorrupt() throws {
        // The finding (v2-header-claims-16m-layers.bin) claimed ~16 million layers, and the loader
        // listed 113 million matrices before it compared the weights with the file's 64 bytes.
        // Headers whose sizes do not even fit in an Int, in each version:
        let huge: [Int32] = [1 << 24, 1 << 24, 1 << 24, 1, 1, 1 << 24, 1 << 24]
        let versions: [[UInt8]] = [
            [],  // version 0: the header alone
            Array("24ka".utf8) + le(1),
            Array("24ka".utf8) + le(2),
        ]
        for (version, prefix) in versions.enumerated() {
            var bytes = prefix + huge.flatMap(le)
            if version > 0 { bytes += [0] + (version == 2 ? le(64) : []) }
            bytes += [UInt8](repeating: 0, count: 256)
            let path = try TemporaryFile.write(bytes, name: "huge-v\(version).bin")
            let error = Self.quickly(path) { #expect(throws: InferError.self) { try Model(path: path) } }
            #expect("\(String(describing: error))".contains("its header describes more weights than any file can hold"),
                    "version \(version): \(String(describing: error))")
        }
    }
}

/// The little-endian bytes of `value`.
private func le(_ value: Int32) -> [UInt8] {
    withUnsafeBytes(of: value.littleEndian, Array.init)
}
