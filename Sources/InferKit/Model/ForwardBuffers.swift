/// Scratch activations for one token's forward pass, allocated once per session.
final class ForwardBuffers {
    let x: UnsafeMutablePointer<Float>          // (dim) residual stream
    let q: UnsafeMutablePointer<Float>          // (n_heads * head_dim)
    let key: UnsafeMutablePointer<Float>        // (n_kv_heads * head_dim) this position's, before the cache
    let value: UnsafeMutablePointer<Float>      // (n_kv_heads * head_dim)
    let attention: UnsafeMutablePointer<Float>  // (n_heads * head_dim) attention output
    let gate: UnsafeMutablePointer<Float>       // (hidden_dim)
    let up: UnsafeMutablePointer<Float>         // (hidden_dim)
    let scores: UnsafeMutablePointer<Float>     // (n_heads, context) attention weights
    let ropeCos: UnsafeMutablePointer<Float>    // (rotations, rope_dim / 2) this position's rotations
    let ropeSin: UnsafeMutablePointer<Float>    // (rotations, rope_dim / 2)
    let logits: UnsafeMutablePointer<Float>     // (vocab)
    let attentionPartials: UnsafeMutablePointer<Float>  // (O's column parts, dim) each part's output
    let ffnPartials: UnsafeMutablePointer<Float>        // (down's column parts, dim)
    private let all: [UnsafeMutablePointer<Float>]

    init(config c: ModelConfig, context: Int, columnParts: Int) {
        func make(_ n: Int) -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: max(1, n))
            p.initialize(repeating: 0, count: max(1, n))
            return p
        }
        let rotations = c.block.rope.rotations.count * c.ropeDim / 2
        x = make(c.dim)
        q = make(c.qDim); attention = make(c.qDim)
        key = make(c.kvDim); value = make(c.kvDim)
        gate = make(c.hiddenDim); up = make(c.hiddenDim)
        scores = make(c.headCount * context); logits = make(c.vocabularySize)
        ropeCos = make(rotations); ropeSin = make(rotations)
        attentionPartials = make(columnParts * c.dim); ffnPartials = make(columnParts * c.dim)
        all = [x, q, key, value, attention, gate, up, scores, logits, ropeCos, ropeSin, attentionPartials, ffnPartials]
    }

    deinit { for p in all { p.deallocate() } }
}
