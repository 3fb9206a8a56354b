import CKernels

/// Keys and values of the positions a session holds, for every layer, in f32. Each KV head's
/// positions are contiguous, (layer, kv_head, row, head_dim): attention reads one head's rows as
/// one stream, which the hardware prefetcher follows.
///
/// A layer without a sliding window keeps every position (`capacity` rows). A layer whose window is
/// well below the capacity keeps only its last `window + batchLimit` positions, in a ring written
/// twice over (`infer_cache_layer`), so its memory follows the window, not the context: the extra
/// `batchLimit` positions let a batch of new tokens attend to the window before them while it
/// writes its own, and let a conversation step back that far and still find its window (`canRewind`).
/// Memory is reserved up front; the operating system only commits pages as rows are written.
final class KVCache {
    let layerCount: Int
    let capacity: Int
    let kvHeadCount: Int
    let headDim: Int
    /// Most positions one batched pass may write (`Int.max` when no layer keeps a ring).
    let batchLimit: Int
    /// Each layer's rows, as the kernels take them.
    let layers: [infer_cache_layer]
    /// Positions ever written since the last reset: a layer's ring holds the last of them.
    private var written = 0
    private let memory: UnsafeMutablePointer<Float>
    private let floatCount: Int

    /// - Parameter batchLimit: the most positions a batched pass writes at once.
    init(config c: ModelConfig, capacity: Int, batchLimit: Int) {
        layerCount = c.layerCount
        self.capacity = capacity
        kvHeadCount = c.kvHeadCount
        headDim = c.headDim
        // (ring, rows) of each layer
        let shapes = c.layers.map { layer -> (ring: Int, rows: Int, window: Int) in
            guard let window = layer.slidingWindow else { return (capacity, capacity, 0) }
            let ring = window + batchLimit
            return ring < capacity / 2 ? (ring, 2 * ring, window) : (capacity, capacity, window)
        }
        self.batchLimit = shapes.contains { $0.ring < capacity } ? batchLimit : Int.max
        let perLayer = shapes.map { c.kvHeadCount * $0.rows * c.headDim }
        floatCount = 2 * perLayer.reduce(0, +)
        memory = .allocate(capacity: max(1, floatCount))
        var offset = 0
        var layers: [infer_cache_layer] = []
        for (shape, floats) in zip(shapes, perLayer) {
            layers.append(infer_cache_layer(keys: memory + offset, values: memory + offset + floats, slots: Int32(shape.rows),
                                            ring: Int32(shape.ring), window: Int32(shape.window)))
            offset += 2 * floats
        }
        self.layers = layers
    }

    deinit { memory.deallocate() }

    /// Writes the keys and values of `count` positions from `start` into layer `layer`: row i of
    /// `newKeys` and `newValues`, (count, n_kv_heads * head_dim), is position start + i.
    func store(layer: Int, start: Int, count: Int, keys newKeys: UnsafePointer<Float>, values newValues: UnsafePointer<Float>) {
        precondition(start >= 0 && start + count <= capacity && count <= batchLimit)
        let kvDim = kvHeadCount * headDim
        withUnsafePointer(to: layers[layer]) { cache in
            for i in 0..<count {
                infer_cache_store(cache, Int32(kvHeadCount), Int32(headDim), Int32(start + i), newKeys + i * kvDim, newValues + i * kvDim)
            }
        }
    }

    /// Notes that positions up to `count` have been written.
    func didWrite(upTo count: Int) { written = max(written, count) }

    /// Forgets every position.
    func reset() { written = 0 }

    /// Whether the positions before `count` are all still there for what comes next: a windowed
    /// layer's ring must still hold the window that position `count` attends to.
    func canRewind(to count: Int) -> Bool {
        layers.allSatisfy { layer in
            layer.ring == capacity || written - Int(layer.ring) <= max(0, count - Int(layer.window) + 1)
        }
    }

    /// The first position a query at `position` of layer `layer` attends to, and its row: the
    /// query reads the rows from there on, one a position (later queries start no earlier).
    func firstAttended(layer: Int, byQueryAt position: Int) -> (position: Int, row: Int) {
        var row: Int32 = 0
        let first = withUnsafePointer(to: layers[layer]) { infer_cache_first($0, Int32(position), &row) }
        return (Int(first), Int(row))
    }

    /// Floats from one KV head's rows to the next head's in layer `layer`.
    func headStride(layer: Int) -> Int { Int(layers[layer].slots) * headDim }

    /// Bytes reserved.
    var byteCount: Int { floatCount * MemoryLayout<Float>.size }
}
