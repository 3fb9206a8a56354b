import Foundation
import Testing
import CKernels
@testable import InferKit

/// Batched prompt processing (matrix–matrix products, causal attention over the batch)
/// against the token-by-token forward pass it replaces.
struct BatchedPrefillTests {
    /// Logits after every token of `tokens`, appended with `batchSize` (after `prefix`
    /// tokens appended one at a time).
    static func allLogits(_ model: Model, _ tokens: [Int], batchSize: Int, prefix: Int = 0,
                          threads: Int = 1, cacheType: KVCacheType = .f32) throws -> [[Float]] {
        let session = try Session(model: model, contextLength: 128, threads: threads, cacheType: cacheType)
        session.smallestBatch = 2  // batches of every size take the batched path
        session.batchSize = 1
        try session.append(Array(tokens[..<prefix]))
        session.batchSize = batchSize
        var rows: [[Float]] = []
        try session.append(Array(tokens[prefix...]), scoring: 0..<(tokens.count - prefix)) { index, logits in
            #expect(index == rows.count)
            rows.append(Array(logits))
        }
        #expect(session.tokens == tokens)
        #expect(Array(session.logits) == rows.last)
        return rows
    }

    /// Largest difference between two logit rows, relative to the largest logit.
    static func difference(_ a: [Float], _ b: [Float]) -> Float {
        let scale = max(1, a.map(abs).max()!)
        return zip(a, b).map { abs($0 - $1) }.max()! / scale
    }

    static func expectSameLogits(_ model: Model, _ tokens: [Int], batchSize: Int, prefix: Int = 0,
                                 tolerance: Float = 1e-4) throws {
        let reference = try allLogits(model, tokens, batchSize: 1, prefix: prefix)
        let batched = try allLogits(model, tokens, batchSize: batchSize, prefix: prefix, threads: 2)
        #expect(batched.count == reference.count)
        for (i, (r, b)) in zip(reference, batched).enumerated() {
            let d = difference(r, b)
            #expect(d <= tolerance, "token \(i): logits differ by \(d) (batch size \(batchSize))")
        }
    }

    /// f16 weights multiply activations rounded to f16 on both paths; an activation that
    /// the two paths compute one f32 ulp apart can round to neighbouring f16 values, a step
    /// of 2⁻¹¹ of it, which the later layers carry on (measured: up to 6e-4).
    static let f16Tolerance: Float = 2e-3

    static func randomTokens(_ count: Int, vocabulary: Int, seed: UInt64) -> [Int] {
        var random = SplitMix64(seed: seed)
        return (0..<count).map { _ in Int(random.nextUnitDouble() * Double(vocabulary)) }
    }

    /// The tiny model's weight matrices re-encoded as `type` (F16 or Q8_0), so the batched
    /// path widens tiles instead of reading f32 in place.
    static func tinyModel(_ type: GGMLType, hidden: Int = 64, heads: Int = 4, kvHeads: Int = 2) throws -> Model {
        var builder = TinyModel(hidden: hidden, heads: heads, kvHeads: kvHeads, seed: 7).builder()
        for i in builder.tensors.indices where builder.tensors[i].shape.count == 2 {
            let floats = builder.tensors[i].data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            builder.tensors[i].type = type
            builder.tensors[i].data = type == .f16 ? encodeF16(floats) : encodeQ8_0(floats)
        }
        return try Model(path: try builder.write())
    }

    static func encodeF16(_ x: [Float]) -> [UInt8] {
        x.flatMap { v in withUnsafeBytes(of: infer_fp32_to_fp16(v).littleEndian) { Array($0) } }
    }

    /// GGML Q8_0: blocks of 32 values, an f16 scale max|x|/127 and 32 rounded int8s.
    static func encodeQ8_0(_ x: [Float]) -> [UInt8] {
        stride(from: 0, to: x.count, by: 32).flatMap { start -> [UInt8] in
            let block = x[start..<start + 32]
            let d = block.map(abs).max()! / 127
            let scale = withUnsafeBytes(of: infer_fp32_to_fp16(d).littleEndian) { Array($0) }
            return scale + block.map { UInt8(bitPattern: Int8(d == 0 ? 0 : ($0 / d).rounded())) }
        }
    }

    @Test(arguments: [2, 7, 16, 64])
    func tinyF32MatchesTokenByToken(batchSize: Int) throws {
        let model = try Model(path: try TinyModel(seed: 3).builder().write())
        let tokens = Self.randomTokens(40, vocabulary: model.config.vocabularySize, seed: 1)
        try Self.expectSameLogits(model, tokens, batchSize: batchSize)
    }

    /// F16 tiles go through the float kernel; Q8_0 through the integer one (AVX-512 VNNI), whose
    /// activations are quantized per block of 32 exactly as the single-token kernels quantize
    /// theirs. Without it (INFER_ISA=avx2, or a CPU without VNNI) Q8_0 tiles are widened and take
    /// the float kernel with unquantized activations, which the token path's 8-bit activations
    /// differ from by their rounding.
    @Test(arguments: [GGMLType.f16, .q8_0])
    func tinyQuantizedMatchesTokenByToken(type: GGMLType) throws {
        let model = try Self.tinyModel(type)
        #expect(model.weightBytesByType.map(\.type) == [type.name])
        let tokens = Self.randomTokens(50, vocabulary: model.config.vocabularySize, seed: 2)
        let integerKernel = infer_isa_active() == INFER_ISA_AVX512
        let tolerance: Float = type == .f16 ? Self.f16Tolerance : integerKernel ? 1e-4 : Self.activationRoundingTolerance
        try Self.expectSameLogits(model, tokens, batchSize: 16, tolerance: tolerance)
    }

    /// 8-bit activations (one scale per block of 32) against f32 ones, carried through the
    /// layers (measured: up to 2e-2 of the largest logit).
    static let activationRoundingTolerance: Float = 5e-2

    /// Fewer tokens than `smallestBatch` take the one-token path: the logits are exactly
    /// those of appending the tokens one by one (a batched pass differs in the last bits).
    @Test func shortAppendsGoTokenByToken() throws {
        let model = try Self.tinyModel(.f16)
        let tokens = Self.randomTokens(3, vocabulary: model.config.vocabularySize, seed: 8)
        let together = try Session(model: model, contextLength: 64, threads: 1)
        #expect(together.smallestBatch == 4)
        try together.append(tokens)
        let apart = try Session(model: model, contextLength: 64, threads: 1)
        for token in tokens { try apart.append([token]) }
        #expect(Array(together.logits) == Array(apart.logits))
        // With the threshold lowered the same append is batched, and its last bits differ:
        // so the equality above says which path ran.
        together.smallestBatch = 2
        try together.append(tokens)
        try apart.append(tokens)
        #expect(Array(together.logits) != Array(apart.logits))
    }

    @Test func continuesAfterCachedTokens() throws {
        // Grouped-query attention (8 query heads over 2 KV heads), 13 tokens already cached.
        let model = try Self.tinyModel(.f16, heads: 8, kvHeads: 2)
        let tokens = Self.randomTokens(60, vocabulary: model.config.vocabularySize, seed: 3)
        try Self.expectSameLogits(model, tokens, batchSize: 20, prefix: 13, tolerance: Self.f16Tolerance)
    }

    /// y = x Wᵀ for the tiny model's (64, 32) gate matrix with scratch of `capacity` floats.
    static func gate(_ type: GGMLType, _ x: [Float], capacity: Int, threads: Int = 1, kernels: Bool = true) throws -> [Float] {
        let model = try tinyModel(type)
        var y = [Float](repeating: 0, count: 5 * 64)
        withExtendedLifetime(model) {  // the matrix reads the model's mapped file
            model.transformer.weights.layers[0].gate.multiply(
                batch: x, count: 5, xStride: 32, into: &y, yStride: 64,
                scratch: WeightTileScratch(capacity: capacity), threads: threads, kernels: kernels)
        }
        return y
    }

    @Test func everyPathAndTilingGivesTheProduct() throws {
        let x = Self.randomTokens(5 * 32, vocabulary: 1000, seed: 4).map { Float($0) / 1000 - 0.5 }
        let model = try Self.tinyModel(.f16)
        var row = [Float](repeating: 0, count: 32)
        withExtendedLifetime(model) { model.transformer.weights.layers[0].gate.dequantizeRow(63, into: &row) }
        let expected = (0..<32).reduce(Float(0)) { $0 + row[$1] * x[4 * 32 + $1] }

        // BLAS on f32 tiles (F16 weights): one tile, tiles of 3 rows, two threads with 2-row tiles.
        let whole = try Self.gate(.f16, x, capacity: 64 * 32, kernels: false)
        #expect(abs(whole[4 * 64 + 63] - expected) < 1e-4)
        #expect(Self.difference(whole, try Self.gate(.f16, x, capacity: 3 * 32 + 5, kernels: false)) < 1e-6)
        #expect(Self.difference(whole, try Self.gate(.f16, x, capacity: 4 * 32, threads: 2, kernels: false)) < 1e-6)

        // The float kernel (where the CPU has it), on one and on two threads.
        if infer_fgemm_supported() != 0 {
            let scratch = WeightMatrix.scratchFloats(tokens: 5, widest: 64, dim: 32, threads: 2)
            #expect(Self.difference(whole, try Self.gate(.f16, x, capacity: scratch)) < 1e-6)
            #expect(Self.difference(whole, try Self.gate(.f16, x, capacity: scratch, threads: 2)) < 1e-6)
        }

        // Integer panels (Q8_0 weights, where the CPU has the kernel): one panel; 16-row
        // panels (300 floats: 320 bytes of activations and one 640-byte panel); two threads.
        // The same sums exactly.
        guard infer_qgemm_supported(INFER_TYPE_Q8_0) != 0 else { return }
        let panels = try Self.gate(.q8_0, x, capacity: 64 * 32)
        #expect(try Self.gate(.q8_0, x, capacity: 300) == panels)
        #expect(try Self.gate(.q8_0, x, capacity: 64 * 32, threads: 2) == panels)
        #expect(Self.difference(whole, panels) < 2e-2)  // 8-bit activations
    }
}

/// The same on the real stories260K model, in both its file formats.
@Suite(.enabled(if: SharedData.available, SharedData.missingMessage))
struct BatchedPrefillRealModelTests {
    static let prompt = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends. One day, she saw a big red ball"

    @Test func stories260KGGUF() throws {
        let model = try Model(path: SharedData.path("models/stories260K.gguf"))
        let tokens = model.tokenizer.encode(Self.prompt, options: EncodeOptions(addBOS: true))
        #expect(tokens.count > 30)
        try BatchedPrefillTests.expectSameLogits(model, tokens, batchSize: 32)
    }

    @Test func stories260KGroupedQ8() throws {
        let model = try Model(path: SharedData.path("models/stories260K_q80.bin"),
                              tokenizerPath: SharedData.path("models/tok512.bin"))
        let tokens = model.tokenizer.encode(Self.prompt, options: EncodeOptions(addBOS: true))
        try BatchedPrefillTests.expectSameLogits(model, tokens, batchSize: 16, prefix: 5)
    }

    /// The quantized stories260K fixtures (Fixtures/make_quantized_stories.py): Q8_0 and Q4_0
    /// matrices on the integer kernel. Here the single-token kernels' logits differ from the
    /// batched ones by up to about 1.5% of the largest logit (on the tiny models above they
    /// agree to 1e-5); the batched perplexity is the closer to llama.cpp's (Q8_0, ctx 128:
    /// batched 4.7775, single-token 4.7806, llama-perplexity 4.7779).
    @Test(arguments: ["q8_0", "q4_0"])
    func stories260KQuantized(type: String) throws {
        let path = TestPaths.target
            .appendingPathComponent("Fixtures/stories260K-\(type).gguf").path
        let model = try Model(path: path)
        #expect(model.weightBytesByType.contains { $0.type == type.uppercased() })
        let tokens = model.tokenizer.encode(Self.prompt, options: EncodeOptions(addBOS: true))
        try BatchedPrefillTests.expectSameLogits(model, tokens, batchSize: 32, tolerance: 3e-2)
    }
}
