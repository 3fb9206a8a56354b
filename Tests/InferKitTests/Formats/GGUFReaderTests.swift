import Foundation
import Testing
@testable import InferKit

struct GGUFReaderTests {
    static let everyType: [(String, GGUFValue)] = [
        ("u8", .uint8(200)), ("i8", .int8(-100)), ("u16", .uint16(60000)), ("i16", .int16(-30000)),
        ("u32", .uint32(4_000_000_000)), ("i32", .int32(-2_000_000_000)),
        ("u64", .uint64(10_000_000_000_000)), ("i64", .int64(-10_000_000_000_000)),
        ("f32", .float32(3.25)), ("f64", .float64(-2.5e300)), ("bool", .bool(true)),
        ("string", .string("héllo ✨")),
        ("ints", .array(elementType: .int32, [.int32(1), .int32(-2), .int32(3)])),
        ("empty", .array(elementType: .string, [])),
        ("nested", .array(elementType: .array, [
            .array(elementType: .string, [.string("a"), .string("b")]),
            .array(elementType: .float32, [.float32(1.5)]),
        ])),
    ]

    @Test(arguments: [UInt32(2), 3])
    func readsEveryValueType(version: UInt32) throws {
        var b = GGUFBuilder()
        b.version = version
        for (key, value) in Self.everyType { b.add(key, value) }
        b.addTensor("t", shape: [4, 2], floats: [1, 2, 3, 4, 5, 6, 7, 8])
        let gguf = try GGUFFile(path: try b.write())
        #expect(gguf.version == version)
        for (key, value) in Self.everyType { #expect(gguf.metadata[key] == value, "\(key)") }
        #expect(gguf.metadataKeys == Self.everyType.map(\.0))
        #expect(gguf.int("u64") == 10_000_000_000_000)
        #expect(gguf.int("i8") == -100)
        #expect(gguf.double("f32") == 3.25)
        #expect(gguf.string("string") == "héllo ✨")
        #expect(gguf.bool("bool") == true)
        #expect(gguf.int("string") == nil)
        let t = try #require(gguf.tensor(named: "t"))
        #expect(t.shape == [4, 2] && t.type == .f32 && t.byteCount == 32)
        let floats = UnsafeRawBufferPointer(start: gguf.data(of: t), count: 32).withMemoryRebound(to: Float.self, Array.init)
        #expect(floats == [1, 2, 3, 4, 5, 6, 7, 8])
    }

    @Test(arguments: [32, 64, 256])
    func honoursAlignment(alignment: Int) throws {
        var b = GGUFBuilder()
        b.alignment = alignment
        b.add("general.name", .string("x"))
        b.addTensor("a", shape: [3], floats: [1, 2, 3])
        b.addTensor("b", shape: [2], floats: [4, 5])
        let gguf = try GGUFFile(path: try b.write())
        #expect(gguf.alignment == alignment)
        #expect(gguf.dataOffset % alignment == 0)
        for t in gguf.tensors { #expect(t.fileOffset % alignment == 0) }
        let second = try #require(gguf.tensor(named: "b"))
        #expect(gguf.data(of: second).loadUnaligned(as: Float.self) == 4)
    }

    @Test func refusesWrongMagic() throws {
        let path = try TemporaryFile.write(Array("GGML and more bytes here".utf8), name: "bad.gguf")
        #expect(throws: InferError.self) { try GGUFFile(path: path) }
        do { _ = try GGUFFile(path: path) } catch { #expect("\(error)".contains("not a GGUF file")) }
    }

    @Test func refusesVersion1AndBigEndian() throws {
        for version: UInt32 in [1, UInt32(3).byteSwapped, 99] {
            var b = GGUFBuilder()
            b.version = version
            let path = try b.write()
            #expect(throws: InferError.self) { try GGUFFile(path: path) }
        }
    }

    /// Every prefix of a valid file is refused with an error, never a crash.
    @Test func everyTruncationIsAnError() throws {
        var b = GGUFBuilder()
        for (key, value) in Self.everyType { b.add(key, value) }
        b.addTensor("t", shape: [4, 2], floats: [1, 2, 3, 4, 5, 6, 7, 8])
        let full = b.bytes()
        for length in stride(from: 1, to: full.count - 31, by: 1) {
            let path = try TemporaryFile.write(Array(full[..<length]), name: "cut.gguf")
            do {
                _ = try GGUFFile(path: path)
                Issue.record("a file cut at \(length) of \(full.count) bytes was accepted")
            } catch let error as InferError {
                #expect("\(error)".contains(path))
            }
        }
    }

    @Test func refusesAbsurdCounts() throws {
        var b = GGUFBuilder()
        b.add("k", .uint32(1))
        let metadata = try b.write(b.bytes(metadataCountOverride: 1 << 60))
        #expect(throws: InferError.self) { try GGUFFile(path: metadata) }
        let tensors = try b.write(b.bytes(tensorCountOverride: UInt64.max))
        #expect(throws: InferError.self) { try GGUFFile(path: tensors) }

        // An array claiming more elements than the file holds.
        var bytes = GGUFBuilder().bytes()
        bytes.removeLast(bytes.count - 24)
        bytes.replaceSubrange(16..<24, with: withUnsafeBytes(of: UInt64(1).littleEndian, Array.init))
        bytes += withUnsafeBytes(of: UInt64(1).littleEndian, Array.init) + Array("a".utf8)
        bytes += withUnsafeBytes(of: GGUFValueType.array.rawValue.littleEndian, Array.init)
        bytes += withUnsafeBytes(of: GGUFValueType.uint8.rawValue.littleEndian, Array.init)
        bytes += withUnsafeBytes(of: UInt64(1 << 50).littleEndian, Array.init)
        let array = try TemporaryFile.write(bytes, name: "array.gguf")
        do {
            _ = try GGUFFile(path: array)
            Issue.record("absurd array count accepted")
        } catch {
            #expect("\(error)".contains("more than the file can hold"))
        }
    }

    @Test func refusesTensorOutsideTheFile() throws {
        var b = GGUFBuilder()
        b.addTensor("t", shape: [8], floats: [Float](repeating: 1, count: 8))
        let past = try b.write(b.bytes(tensorOffsetOverride: ["t": 1 << 40]))
        #expect(throws: InferError.self) { try GGUFFile(path: past) }
        let misaligned = try b.write(b.bytes(tensorOffsetOverride: ["t": 4]))
        do {
            _ = try GGUFFile(path: misaligned)
            Issue.record("misaligned tensor accepted")
        } catch { #expect("\(error)".contains("alignment")) }
        let endsPast = try b.write(b.bytes(tensorOffsetOverride: ["t": 32]))
        do {
            _ = try GGUFFile(path: endsPast)
            Issue.record("tensor running past the end accepted")
        } catch { #expect("\(error)".contains("runs past the end")) }
    }

    @Test func refusesDuplicatesAndBadValues() throws {
        var b = GGUFBuilder()
        b.add("k", .uint32(1))
        b.add("k", .uint32(2))
        #expect(throws: InferError.self) { try GGUFFile(path: try b.write()) }

        var badAlignment = GGUFBuilder()
        badAlignment.add("general.alignment", .uint32(24))
        #expect(throws: InferError.self) { try GGUFFile(path: try badAlignment.write()) }

        var partialBlock = GGUFBuilder()
        partialBlock.addTensor("q", shape: [33], type: .q8_0, bytes: [UInt8](repeating: 0, count: 68))
        do {
            _ = try GGUFFile(path: try partialBlock.write())
            Issue.record("a Q8_0 row of 33 elements was accepted")
        } catch { #expect("\(error)".contains("block size")) }
    }

    @Test(.enabled(if: SharedData.available, SharedData.missingMessage))
    func readsSharedStoriesModel() throws {
        let gguf = try GGUFFile(path: SharedData.path("models/stories260K.gguf"))
        #expect(gguf.version == 3)
        #expect(gguf.tensors.count == 48)
        #expect(gguf.string("general.architecture") == "llama")
        #expect(gguf.int("llama.embedding_length") == 64)
        #expect(gguf.array("tokenizer.ggml.tokens")?.count == 512)
    }
}
