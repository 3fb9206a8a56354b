import CKernels

/// The matrix–vector products of one token's forward pass over a session's buffers, laid out
/// once per session: every matrix's descriptor and every product's input and output. A token
/// then allocates nothing for its ~90 parallel jobs (building their arrays on every call was
/// ~0.4% of a one-thread token in perf's samples, work the caller does while the other
/// threads wait; below what tg's rounds can tell apart on this host).
final class TokenProducts {
    /// The parallel jobs of a layer, in the order the forward pass runs them.
    enum Job {
        case qkv      // Q, K and V of the normed input
        case output   // O of the attention output
        case gateUp   // gate and up of the normed input
        case down     // down of the gated activation

        /// Where the job's products start within a layer's seven, and how many it has.
        fileprivate var products: (first: Int, count: Int) {
            switch self {
            case .qkv: (0, 3)
            case .output: (3, 1)
            case .gateUp: (4, 2)
            case .down: (6, 1)
            }
        }
    }

    private static let productsPerLayer = 7

    /// The activations the products read and write.
    let buffers: ForwardBuffers
    private let count: Int
    private let matrices: UnsafeMutablePointer<infer_matrix>   // (layers * 7 + 1)
    private let products: UnsafeMutablePointer<infer_product>  // (layers * 7 + 1); the last: logits

    /// Products of `weights` reading and writing `b`; valid while the weights are.
    init(weights: ModelWeights, buffers b: ForwardBuffers) {
        buffers = b
        count = weights.layers.count * Self.productsPerLayer + 1
        matrices = .allocate(capacity: count)
        products = .allocate(capacity: count)
        var next = 0
        func add(_ w: WeightMatrix, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
            (matrices + next).initialize(to: w.descriptor)
            (products + next).initialize(to: infer_product(w: matrices + next, x: x, y: y))
            next += 1
        }
        for layer in weights.layers {
            add(layer.wq, b.normed, b.q); add(layer.wk, b.normed, b.key); add(layer.wv, b.normed, b.value)
            add(layer.wo, b.attention, b.sublayer)
            add(layer.gate, b.normed, b.gate); add(layer.up, b.normed, b.up)
            add(layer.down, b.gate, b.sublayer)
        }
        add(weights.output, b.x, b.logits)
    }

    deinit {
        matrices.deallocate()
        products.deallocate()
    }

    /// Runs job `job` of layer `layer` on `pool`.
    func run(_ job: Job, layer: Int, on pool: ThreadPool) {
        let (first, count) = job.products
        pool.multiply(products + layer * Self.productsPerLayer + first, count: count)
    }

    /// Runs the output projection (the logits of the normed last hidden state) on `pool`.
    func runLogits(on pool: ThreadPool) {
        pool.multiply(products + count - 1, count: 1)
    }
}
