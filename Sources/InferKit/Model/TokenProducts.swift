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
    }

    /// The activations the products read and write.
    let buffers: ForwardBuffers
    /// O's and down's column parts (1: whole): each part a product of its own into its row of
    /// `buffers.partials`, summed into `buffers.sublayer` after the job.
    private let parts: Int
    private let perLayer: Int
    private let count: Int
    private let matrices: UnsafeMutablePointer<infer_matrix>   // (count)
    private let products: UnsafeMutablePointer<infer_product>  // (count): each layer's, then the logits

    /// Products of `weights` reading and writing `b`; valid while the weights are.
    init(weights: ModelWeights, buffers b: ForwardBuffers) {
        buffers = b
        parts = max(1, weights.layers.first?.wo.columnParts.count ?? 1)
        perLayer = 5 + 2 * parts
        count = weights.layers.count * perLayer + 1
        matrices = .allocate(capacity: count)
        products = .allocate(capacity: count)
        var next = 0
        func add(_ w: WeightMatrix, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
            (matrices + next).initialize(to: w.descriptor)
            (products + next).initialize(to: infer_product(w: matrices + next, x: x, y: y))
            next += 1
        }
        let parts = self.parts
        func addParts(_ w: WeightMatrix, _ x: UnsafePointer<Float>) {
            if parts == 1 { return add(w, x, b.sublayer) }
            for (p, part) in w.columnParts.enumerated() { add(part, x + p * part.cols, b.partials + p * w.rows) }
        }
        for layer in weights.layers {
            add(layer.wq, b.normed, b.q); add(layer.wk, b.normed, b.key); add(layer.wv, b.normed, b.value)
            addParts(layer.wo, b.attention)
            add(layer.gate, b.normed, b.gate); add(layer.up, b.normed, b.up)
            addParts(layer.down, b.gate)
        }
        add(weights.output, b.x, b.logits)
    }

    deinit {
        matrices.deallocate()
        products.deallocate()
    }

    /// Where a job's products start within a layer's, and how many it has.
    private func range(of job: Job) -> (first: Int, count: Int) {
        switch job {
        case .qkv: (0, 3)
        case .output: (3, parts)
        case .gateUp: (3 + parts, 2)
        case .down: (5 + parts, parts)
        }
    }

    /// Runs job `job` of layer `layer` on `pool` (O's and down's parts summed into the sublayer
    /// output in the order of the parts, as `infer_decode` sums them).
    func run(_ job: Job, layer: Int, on pool: ThreadPool) {
        let (first, count) = range(of: job)
        pool.multiply(products + layer * perLayer + first, count: count)
        if parts > 1, job == .output || job == .down {
            let b = buffers, dim = b.dim
            b.sublayer.update(from: b.partials, count: dim)
            for p in 1..<parts { infer_add(b.sublayer, b.partials + p * dim, Int32(dim)) }
        }
    }

    /// Runs the output projection (the logits of the normed last hidden state) on `pool`.
    func runLogits(on pool: ThreadPool) {
        pool.multiply(products + count - 1, count: 1)
    }
}
