import CKernels

/// How a KV cache stores keys and values: f32, f16 (half the memory; llama.cpp's default), or
/// q8_0 (8-bit blocks of 32 with a scale: about a quarter; head sizes a multiple of 32).
public enum KVCacheType: String, Sendable, CaseIterable {
    case f32, f16, q8_0

    var kernelType: infer_type {
        switch self {
        case .f32: INFER_TYPE_F32
        case .f16: INFER_TYPE_F16
        case .q8_0: INFER_TYPE_Q8_0
        }
    }
}

/// Keys and values of the positions a session holds, for every layer, as `type`. Each KV head's
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
    let type: KVCacheType
    /// Most positions one batched pass may write (`Int.max` when no layer keeps a ring).
    let batchLimit: Int
    /// Each layer's rows, as the kernels take them.
    let layers: [infer_cache_layer]
    /// `layers` where it stays put, for the forward pass of several sessions (`infer_sequence`).
    let layerTable: UnsafeMutablePointer<infer_cache_layer>
    /// Positions ever written since the last reset: a layer's ring holds the last of them.
    private var written = 0
    /// Each layer's first position whose row is meaningful apart from what the ring has since
    /// overwritten (after a context shift or a restore, a ring holds only the window it was given).
    private var validFrom: [Int]
    private let memory: UnsafeMutableRawPointer
    /// Bytes reserved.
    let byteCount: Int

    /// - Parameter batchLimit: the most positions a batched pass writes at once.
    /// - Throws: `InferError.invalidArgument` when `type` cannot hold the model's heads (q8_0
    ///   needs head sizes in whole blocks of 32).
    init(config c: ModelConfig, capacity: Int, batchLimit: Int, type: KVCacheType = .f32) throws {
        guard infer_cache_type_supported(type.kernelType, Int32(c.headDim)) != 0 else {
            throw InferError.invalidArgument("a \(type.rawValue) KV cache cannot hold heads of \(c.headDim) values (q8_0 needs a multiple of 32)")
        }
        layerCount = c.layerCount
        self.capacity = capacity
        kvHeadCount = c.kvHeadCount
        headDim = c.headDim
        self.type = type
        // (ring, rows) of each layer
        let shapes = c.layers.map { layer -> (ring: Int, rows: Int, window: Int) in
            guard let window = layer.slidingWindow else { return (capacity, capacity, 0) }
            let ring = window + batchLimit
            return ring < capacity / 2 ? (ring, 2 * ring, window) : (capacity, capacity, window)
        }
        self.batchLimit = shapes.contains { $0.ring < capacity } ? batchLimit : Int.max
        let rowBytes = infer_cache_row_bytes(type.kernelType, Int32(c.headDim))
        let perLayer = shapes.map { c.kvHeadCount * $0.rows * rowBytes }
        byteCount = 2 * perLayer.reduce(0, +)
        memory = .allocate(byteCount: max(64, byteCount), alignment: 64)
        var offset = 0
        var layers: [infer_cache_layer] = []
        for (shape, bytes) in zip(shapes, perLayer) {
            layers.append(infer_cache_layer(keys: memory + offset, values: memory + offset + bytes, type: type.kernelType,
                                            row_bytes: rowBytes, slots: Int32(shape.rows), ring: Int32(shape.ring),
                                            window: Int32(shape.window)))
            offset += 2 * bytes
        }
        self.layers = layers
        layerTable = .allocate(capacity: max(1, layers.count))
        layerTable.initialize(from: layers, count: layers.count)
        validFrom = Array(repeating: 0, count: layers.count)
    }

    deinit {
        memory.deallocate()
        layerTable.deallocate()
    }

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
    func reset() {
        written = 0
        validFrom = Array(repeating: 0, count: layers.count)
    }

    /// The first position layer `layer` still holds of the first `count`.
    func firstHeld(layer: Int, count: Int) -> Int {
        let l = layers[layer]
        if l.ring == capacity { return 0 }
        return min(count, max(0, validFrom[layer], written - Int(l.ring)))
    }

    /// Whether the positions before `count` are all still there for what comes next: a windowed
    /// layer's ring must still hold the window that position `count` attends to.
    func canRewind(to count: Int) -> Bool {
        layers.indices.allSatisfy { l in
            let layer = layers[l]
            return layer.ring == capacity || max(validFrom[l], written - Int(layer.ring)) <= max(0, count - Int(layer.window) + 1)
        }
    }

    /// Drops positions [keep, keep + discard) of the `count` held: the later ones move down by
    /// `discard`, their keys turned back by that many positions' rotation (`rotary`, the layers'
    /// `rotations`), as llama.cpp shifts its context. A sliding-window layer moves only the window
    /// the next position attends to. Returns false, changing nothing, when a window layer no longer
    /// holds a position that window needs (the caller then computes the kept tokens again).
    func shift(keep: Int, discard: Int, count: Int, rotary: RotaryAngles, rotations: [Int], ropeDim: Int,
               neox: Bool) -> Bool {
        precondition(keep >= 0 && discard > 0 && keep + discard <= count)
        let kept = count - discard
        // The moves of each layer: (old positions, new positions).
        var moves: [(from: [Int32], to: [Int32])] = []
        for layer in layers {
            if layer.ring == capacity {
                let from = Array((keep + discard)..<count)
                moves.append((from.map { Int32($0) }, from.map { Int32($0 - discard) }))
                continue
            }
            let to = Array(max(0, kept - Int(layer.window) + 1)..<kept)
            let from = to.map { $0 < keep ? $0 : $0 + discard }
            guard from.allSatisfy({ $0 >= written - Int(layer.ring) && $0 < count }) else { return false }
            moves.append((from.map { Int32($0) }, to.map { Int32($0) }))
        }
        let pairs = rotary.pairs
        let cosines = UnsafeMutablePointer<Float>.allocate(capacity: max(1, rotary.count * pairs))
        let sines = UnsafeMutablePointer<Float>.allocate(capacity: max(1, rotary.count * pairs))
        defer { cosines.deallocate(); sines.deallocate() }
        rotary.write(position: -discard, cosines: cosines, sines: sines, pure: true)
        let most = moves.map(\.from.count).max() ?? 0
        let rowBytes = layers.first?.row_bytes ?? 0
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: max(64, most * 2 * rowBytes + headDim * 4), alignment: 64)
        defer { scratch.deallocate() }
        for (l, move) in moves.enumerated() where !move.from.isEmpty {
            let r = rotations[l] * pairs
            withUnsafePointer(to: layers[l]) { layer in
                infer_cache_move(layer, Int32(kvHeadCount), Int32(headDim), move.from, move.to, Int32(move.from.count),
                                 Int32(ropeDim), neox ? 1 : 0, cosines + r, sines + r, scratch)
            }
        }
        written = kept
        for (l, layer) in layers.enumerated() where layer.ring != capacity {
            validFrom[l] = max(0, kept - Int(layer.window) + 1)
        }
        return true
    }

    /// The first position a query at `position` of layer `layer` attends to, and its row: the
    /// query reads the rows from there on, one a position (later queries start no earlier).
    func firstAttended(layer: Int, byQueryAt position: Int) -> (position: Int, row: Int) {
        var row: Int32 = 0
        let first = withUnsafePointer(to: layers[layer]) { infer_cache_first($0, Int32(position), &row) }
        return (Int(first), Int(row))
    }

    /// The key and value of KV head `head` at `position` in layer `layer`, as f32 (the row the
    /// position lives in; tests).
    func row(layer: Int, head: Int, position: Int) -> (key: [Float], value: [Float]) {
        var key = [Float](repeating: 0, count: headDim), value = key
        key.withUnsafeMutableBufferPointer { k in
            value.withUnsafeMutableBufferPointer { v in
                let rows = rowsAsFloats(layer: layer, head: head, row: position % Int(layers[layer].ring), count: 1,
                                        keys: k.baseAddress!, values: v.baseAddress!)
                if rows.keys != UnsafePointer(k.baseAddress!) {
                    k.baseAddress!.update(from: rows.keys, count: headDim)
                    v.baseAddress!.update(from: rows.values, count: headDim)
                }
            }
        }
        return (key, value)
    }

    /// The row of keys or values (`part`) of KV head `head` at `position` in layer `layer`, as stored.
    func rowBytes(layer: Int, head: Int, position: Int,
                  part: KeyPath<infer_cache_layer, UnsafeMutableRawPointer?>) -> UnsafeRawBufferPointer {
        let l = layers[layer]
        let start = UnsafeRawPointer(l[keyPath: part]!) + head * headBytes(layer: layer) + position % Int(l.ring) * l.row_bytes
        return UnsafeRawBufferPointer(start: start, count: l.row_bytes)
    }

    /// Writes a stored row (see `rowBytes`) back, mirror included.
    func setRow(layer: Int, head: Int, position: Int, part: KeyPath<infer_cache_layer, UnsafeMutableRawPointer?>,
                from source: UnsafeRawPointer) {
        let l = layers[layer]
        let row = UnsafeMutableRawPointer(l[keyPath: part]!) + head * headBytes(layer: layer) + position % Int(l.ring) * l.row_bytes
        row.copyMemory(from: source, byteCount: l.row_bytes)
        if Int(l.slots) == 2 * Int(l.ring) { (row + Int(l.ring) * l.row_bytes).copyMemory(from: source, byteCount: l.row_bytes) }
    }

    /// Whether layer `layer` can take positions [first, count) with nothing before them: a whole
    /// layer needs them all; a ring, the window of the next position, within its rows.
    func canHold(layer: Int, first: Int, count: Int) -> Bool {
        let l = layers[layer]
        guard count <= capacity else { return false }
        if l.ring == capacity { return first == 0 }
        return first <= max(0, count - Int(l.window) + 1) && count - first <= Int(l.ring)
    }

    /// Notes that `count` positions were restored, layer l's from `firsts[l]`.
    func didRestore(count: Int, firsts: [Int]) {
        written = count
        validFrom = firsts
    }

    /// Bytes from one KV head's rows to the next head's in layer `layer`.
    func headBytes(layer: Int) -> Int { Int(layers[layer].slots) * layers[layer].row_bytes }

    /// Rows [row, row + count) of KV head `head` of layer `layer`, keys and values, as f32 (count,
    /// head_dim) each: in place for an f32 cache, else widened into `keys` and `values`.
    func rowsAsFloats(layer: Int, head: Int, row: Int, count: Int, keys: UnsafeMutablePointer<Float>,
                      values: UnsafeMutablePointer<Float>) -> (keys: UnsafePointer<Float>, values: UnsafePointer<Float>) {
        let l = layers[layer]
        let start = head * headBytes(layer: layer) + row * l.row_bytes
        let k = UnsafeRawPointer(l.keys!) + start, v = UnsafeRawPointer(l.values!) + start
        if type == .f32 {
            return (k.assumingMemoryBound(to: Float.self), v.assumingMemoryBound(to: Float.self))
        }
        for i in 0..<count {
            infer_cache_row_widen(l.type, k + i * l.row_bytes, keys + i * headDim, Int32(headDim))
            infer_cache_row_widen(l.type, v + i * l.row_bytes, values + i * headDim, Int32(headDim))
        }
        return (UnsafePointer(keys), UnsafePointer(values))
    }
}
