/// Keys and values of every position a session has processed, for every layer, in f32.
/// Each KV head's positions are contiguous, (layer, kv_head, position, head_dim): attention
/// reads one head's rows as one stream, which the hardware prefetcher follows (rows of all
/// heads interleaved by position made a head's read a few cache lines every kv_dim floats:
/// attention over 512 positions took 30% longer, over 64 8%).
/// Memory is reserved for `capacity` positions up front; the operating system only
/// commits pages as positions are written.
final class KVCache {
    let layerCount: Int
    let capacity: Int
    let kvHeadCount: Int
    let headDim: Int
    private let keys: UnsafeMutablePointer<Float>     // (layer, kv_head, capacity, head_dim)
    private let values: UnsafeMutablePointer<Float>   // (layer, kv_head, capacity, head_dim)

    init(layerCount: Int, capacity: Int, kvHeadCount: Int, headDim: Int) {
        self.layerCount = layerCount
        self.capacity = capacity
        self.kvHeadCount = kvHeadCount
        self.headDim = headDim
        let count = layerCount * kvHeadCount * capacity * headDim
        keys = .allocate(capacity: count)
        values = .allocate(capacity: count)
    }

    deinit {
        keys.deallocate()
        values.deallocate()
    }

    /// Floats from one KV head's rows to the next head's.
    var headStride: Int { capacity * headDim }

    /// Layer `layer`'s keys: KV head j's row at position p is at `j * headStride + p * headDim`.
    func keys(layer: Int) -> UnsafeMutablePointer<Float> {
        keys + layer * kvHeadCount * headStride
    }

    func values(layer: Int) -> UnsafeMutablePointer<Float> {
        values + layer * kvHeadCount * headStride
    }

    /// Writes the keys and values of `count` positions from `start` into layer `layer`:
    /// row i of `newKeys` and `newValues`, (count, n_kv_heads * head_dim), is position start + i.
    func store(layer: Int, start: Int, count: Int, keys newKeys: UnsafePointer<Float>,
               values newValues: UnsafePointer<Float>) {
        precondition(start >= 0 && start + count <= capacity)
        let layerKeys = keys(layer: layer), layerValues = values(layer: layer)
        for head in 0..<kvHeadCount {
            let offset = head * headStride + start * headDim
            for i in 0..<count {
                let row = (i * kvHeadCount + head) * headDim
                (layerKeys + offset + i * headDim).update(from: newKeys + row, count: headDim)
                (layerValues + offset + i * headDim).update(from: newValues + row, count: headDim)
            }
        }
    }

    /// Bytes reserved.
    var byteCount: Int { 2 * layerCount * kvHeadCount * capacity * headDim * MemoryLayout<Float>.size }
}
