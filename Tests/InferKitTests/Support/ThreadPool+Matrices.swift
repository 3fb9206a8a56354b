import CKernels
@testable import InferKit

extension ThreadPool {
    /// outputs[i] = matrices[i] x for the matrices that read the same x, as one parallel job
    /// (generation's jobs, which sessions lay out once in `TokenProducts`).
    func multiply(_ x: UnsafePointer<Float>, by matrices: [WeightMatrix], into outputs: [UnsafeMutablePointer<Float>]) {
        precondition(matrices.count == outputs.count && matrices.count <= Int(INFER_MATVEC_MAX_PRODUCTS))
        var descriptors = matrices.map(\.descriptor)
        descriptors.withUnsafeMutableBufferPointer { m in
            let products = m.indices.map { infer_product(w: m.baseAddress! + $0, x: x, y: outputs[$0]) }
            multiply(products, count: products.count)
        }
    }
}
