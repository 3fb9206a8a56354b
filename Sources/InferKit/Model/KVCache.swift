/// Keys and values of every position a session has processed, for every layer, in f32.
/// Memory is reserved for `capacity` positions up front; the operating system only
/// commits pages as positions are written.
final class KVCache {
    let layerCount: Int
    let capacity: Int
    let kvDim: Int
    private let keys: UnsafeMutablePointer<Float>     // (layer, capacity, kv_dim)
    private let values: UnsafeMutablePointer<Float>   // (layer, capacity, kv_dim)

    init(layerCount: Int, capacity: Int, kvDim: Int) {
        self.layerCount = layerCount
        self.capacity = capacity
        self.kvDim = kvDim
        let count = layerCount * capacity * kvDim
        keys = .allocate(capacity: count)
        values = .allocate(capacity: count)
    }

    deinit {
        keys.deallocate()
        values.deallocate()
    }

    /// Row of layer `layer`'s keys at `position` (kv_dim floats); rows are kv_dim apart.
    func keys(layer: Int, position: Int = 0) -> UnsafeMutablePointer<Float> {
        keys + (layer * capacity + position) * kvDim
    }

    func values(layer: Int, position: Int = 0) -> UnsafeMutablePointer<Float> {
        values + (layer * capacity + position) * kvDim
    }

    /// Bytes reserved.
    var byteCount: Int { 2 * layerCount * capacity * kvDim * MemoryLayout<Float>.size }
}
