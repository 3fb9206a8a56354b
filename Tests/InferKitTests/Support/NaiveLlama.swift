import Foundation
import CKernels
@testable import InferKit

/// A deliberately plain double-precision Llama forward pass, written from the
/// definitions (no kernels), to check the real one against.
struct NaiveLlama {
    let config: ModelConfig
    let weights: ModelWeights
    var keys: [[[Double]]]    // (layer, position, kv_dim)
    var values: [[[Double]]]  // (layer, position, kv_dim)

    init(model: Model) {
        config = model.config
        weights = model.transformer.weights
        keys = Array(repeating: [], count: config.layerCount)
        values = Array(repeating: [], count: config.layerCount)
    }

    static func matrix(_ m: WeightMatrix) -> [[Double]] {
        (0..<m.rows).map { r in
            var row = [Float](repeating: 0, count: m.cols)
            m.dequantizeRow(r, into: &row)
            return row.map(Double.init)
        }
    }

    static func matvec(_ m: WeightMatrix, _ x: [Double]) -> [Double] {
        matrix(m).map { row in zip(row, x).reduce(0) { $0 + $1.0 * $1.1 } }
    }

    func rmsNorm(_ x: [Double], _ w: [Float]) -> [Double] {
        let rms = (x.reduce(0) { $0 + $1 * $1 } / Double(x.count) + Double(config.rmsEpsilon)).squareRoot()
        return zip(x, w).map { $0 / rms * Double($1) }
    }

    func rope(_ v: [Double], position: Int) -> [Double] {
        var out = v
        let d = config.headDim
        for head in 0..<(v.count / d) {
            for i in 0..<config.ropeDim / 2 {
                let angle = Double(position) * pow(Double(config.block.rope.rotations[0].base), -Double(2 * i) / Double(config.ropeDim))
                let (a, b) = config.block.rope.style == .neox ? (i, i + config.ropeDim / 2) : (2 * i, 2 * i + 1)
                let x0 = v[head * d + a], x1 = v[head * d + b]
                out[head * d + a] = x0 * cos(angle) - x1 * sin(angle)
                out[head * d + b] = x0 * sin(angle) + x1 * cos(angle)
            }
        }
        return out
    }

    mutating func forward(_ token: Int) -> [Double] {
        let c = config
        var x = Self.matrix(weights.tokenEmbedding)[token]
        let position = keys[0].count
        for (l, layer) in weights.layers.enumerated() {
            let h = rmsNorm(x, layer.attentionNorm)
            let q = rope(Self.matvec(layer.wq, h), position: position)
            keys[l].append(rope(Self.matvec(layer.wk, h), position: position))
            values[l].append(Self.matvec(layer.wv, h))
            var attention = [Double](repeating: 0, count: c.qDim)
            for head in 0..<c.headCount {
                let kv = head / (c.headCount / c.kvHeadCount)
                let scores = keys[l].map { k in
                    (0..<c.headDim).reduce(0.0) { $0 + q[head * c.headDim + $1] * k[kv * c.headDim + $1] } / Double(c.headDim).squareRoot()
                }
                let m = scores.max()!
                let e = scores.map { exp($0 - m) }
                let total = e.reduce(0, +)
                for d in 0..<c.headDim {
                    attention[head * c.headDim + d] = zip(e, values[l]).reduce(0.0) { $0 + $1.0 / total * $1.1[kv * c.headDim + d] }
                }
            }
            x = zip(x, Self.matvec(layer.wo, attention)).map(+)
            let f = rmsNorm(x, layer.ffnNorm)
            let gate = Self.matvec(layer.gate, f), up = Self.matvec(layer.up, f)
            let act = zip(gate, up).map { g, u in g / (1 + exp(-g)) * u }
            x = zip(x, Self.matvec(layer.down, act)).map(+)
        }
        return Self.matvec(weights.output, rmsNorm(x, weights.outputNorm))
    }
}
