/// Scratch activations for the one-token forward pass of up to `capacity` sequences at once
/// (one for a session; several for a batched step), allocated once. Sequence s's row of a buffer
/// starts at s times the row's width.
final class ForwardBuffers {
    let capacity: Int
    let x: UnsafeMutablePointer<Float>          // (capacity, dim) residual stream
    let q: UnsafeMutablePointer<Float>          // (capacity, n_heads * head_dim)
    let key: UnsafeMutablePointer<Float>        // (capacity, n_kv_heads * head_dim) this position's, before the cache
    let value: UnsafeMutablePointer<Float>      // (capacity, n_kv_heads * head_dim)
    let attention: UnsafeMutablePointer<Float>  // (capacity, n_heads * head_dim) attention output
    let gate: UnsafeMutablePointer<Float>       // (capacity, hidden_dim)
    let up: UnsafeMutablePointer<Float>         // (capacity, hidden_dim)
    let scores: UnsafeMutablePointer<Float>     // (n_heads, context) attention weights, one sequence at a time
    let ropeCos: UnsafeMutablePointer<Float>    // (capacity, rotations, rope_dim / 2) each token's rotations
    let ropeSin: UnsafeMutablePointer<Float>    // (capacity, rotations, rope_dim / 2)
    let logits: UnsafeMutablePointer<Float>     // (vocab) a session's next-token scores
    let attentionPartials: UnsafeMutablePointer<Float>  // (O's column parts, capacity, dim) each part's output
    let ffnPartials: UnsafeMutablePointer<Float>        // (down's column parts, capacity, dim)
    /// Floats of one token's rotations (every rotation's rope_dim / 2 cosines, or sines).
    let rotationFloats: Int
    private let all: [UnsafeMutablePointer<Float>]

    init(config c: ModelConfig, context: Int, columnParts: Int, capacity: Int = 1) {
        func make(_ n: Int) -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: max(1, n))
            p.initialize(repeating: 0, count: max(1, n))
            return p
        }
        self.capacity = capacity
        rotationFloats = c.block.rope.rotations.count * c.ropeDim / 2
        x = make(capacity * c.dim)
        q = make(capacity * c.qDim); attention = make(capacity * c.qDim)
        key = make(capacity * c.kvDim); value = make(capacity * c.kvDim)
        gate = make(capacity * c.hiddenDim); up = make(capacity * c.hiddenDim)
        scores = make(c.headCount * context); logits = make(c.vocabularySize)
        ropeCos = make(capacity * rotationFloats); ropeSin = make(capacity * rotationFloats)
        attentionPartials = make(columnParts * capacity * c.dim); ffnPartials = make(columnParts * capacity * c.dim)
        all = [x, q, key, value, attention, gate, up, scores, logits, ropeCos, ropeSin, attentionPartials, ffnPartials]
    }

    deinit { for p in all { p.deallocate() } }
}
