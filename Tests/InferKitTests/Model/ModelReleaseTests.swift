import CKernels
import Foundation
import Testing
@testable import InferKit

/// A model's memory goes with it, the interleaved copies of its weights (made at load on CPUs
/// with the AVX-512 kernels) included. Found by the GGUF fuzz harness: every load leaked its
/// copies (2 MiB a load there; a model's size for real ones).
struct ModelReleaseTests {
    @Test func theInterleavedCopiesAreFreedWithTheModel() throws {
        weak var released: Model?
        weak var copies: InterleavedMemory?
        do {
            let model = try Model(path: Fixtures.path("stories260K-q8_0.gguf"))
            let session = try Session(model: model, contextLength: 8, threads: 1)
            try session.append([1, 2])
            released = model
            let layer = model.transformer.weights.layers[0]
            copies = (layer.wq.columnParts.first ?? layer.wq).interleaved?.memory
            if infer_isa_active() == INFER_ISA_AVX512 {
                #expect(copies != nil, "the model's Q8_0 matrices have interleaved copies on this CPU")
            }
        }
        #expect(released == nil)
        #expect(copies == nil, "the interleaved copies outlived their model")
    }
}
