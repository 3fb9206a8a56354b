import Synchronization

/// A vocabulary as a trie of its tokens' bytes, laid out in depth-first order: a node's
/// subtree is the run of nodes after it up to `subtreeEnd`, so walking every token from a
/// grammar state is one pass over flat arrays that skips a whole subtree as soon as its
/// prefix cannot continue the grammar. Tokens that share a prefix share its bytes' work.
///
/// Tokens with no bytes (control tokens) and end-of-generation tokens are kept apart: the
/// grammar decides about them separately.
public final class TokenTrie: Sendable {
    public let vocabularySize: Int
    /// Tokens that end generation (allowed only where the grammar is complete).
    public let endOfGeneration: Set<Int>

    // Nodes in depth-first order; node 0 is the root (no byte).
    let nodeByte: [UInt8]
    let nodeDepth: [UInt16]
    let subtreeEnd: [Int32]
    /// Tokens ending at node i: `nodeTokens[nodeTokenStart[i]..<nodeTokenStart[i + 1]]`.
    let nodeTokenStart: [Int32]
    let nodeTokens: [Int32]
    let maxDepth: Int

    /// Each token's bytes (empty for control tokens), back to back.
    private let bytes: [UInt8]
    private let byteStart: [Int32]

    /// Builds the trie of `tokenizer`'s vocabulary; `endOfGeneration` are the tokens that end
    /// generation (a model's `endOfGenerationTokens`).
    public init(tokenizer: any Tokenizer, endOfGeneration: Set<Int>) {
        vocabularySize = tokenizer.vocabularySize
        self.endOfGeneration = endOfGeneration
        var bytes: [UInt8] = []
        var byteStart: [Int32] = [0]
        byteStart.reserveCapacity(vocabularySize + 1)
        for id in 0..<vocabularySize {
            bytes += tokenizer.bytes(of: id)
            byteStart.append(Int32(bytes.count))
        }
        self.bytes = bytes
        self.byteStart = byteStart

        // Tokens in byte order are the trie's depth-first order.
        let order = (0..<vocabularySize).filter { byteStart[$0 + 1] > byteStart[$0] && !endOfGeneration.contains($0) }
            .sorted { a, b in
                let x = bytes[Int(byteStart[a])..<Int(byteStart[a + 1])], y = bytes[Int(byteStart[b])..<Int(byteStart[b + 1])]
                return x.lexicographicallyPrecedes(y) || (x.elementsEqual(y) && a < b)
            }
        var nodeByte: [UInt8] = [0], nodeDepth: [UInt16] = [0], subtreeEnd: [Int32] = [0]
        var nodeTokenStart: [Int32] = [0, 0], nodeTokens: [Int32] = []
        var path: [Int32] = [0]  // the nodes from the root to the last token's end
        var previous: ArraySlice<UInt8> = []
        var maxDepth = 0
        for id in order {
            let token = bytes[Int(byteStart[id])..<Int(byteStart[id + 1])]
            let shared = zip(previous, token).prefix { $0 == $1 }.count
            // Close the nodes below the shared prefix.
            while path.count > shared + 1 {
                let closed = path.removeLast()
                subtreeEnd[Int(closed)] = Int32(nodeByte.count)
            }
            for (depth, byte) in token.enumerated().dropFirst(shared) {
                path.append(Int32(nodeByte.count))
                nodeByte.append(byte)
                nodeDepth.append(UInt16(clamping: depth + 1))
                subtreeEnd.append(0)
                nodeTokenStart.append(Int32(nodeTokens.count))
            }
            nodeTokens.append(Int32(id))
            nodeTokenStart[nodeTokenStart.count - 1] = Int32(nodeTokens.count)
            maxDepth = max(maxDepth, token.count)
            previous = token
        }
        for node in path { subtreeEnd[Int(node)] = Int32(nodeByte.count) }
        self.nodeByte = nodeByte
        self.nodeDepth = nodeDepth
        self.subtreeEnd = subtreeEnd
        self.nodeTokenStart = nodeTokenStart
        self.nodeTokens = nodeTokens
        self.maxDepth = maxDepth
    }

    /// Nodes of the trie, the root included.
    public var nodeCount: Int { nodeByte.count }

    /// The bytes of token `id` (empty for control tokens).
    func bytes(of id: Int) -> ArraySlice<UInt8> {
        guard id >= 0 && id < vocabularySize else { return [] }
        return bytes[Int(byteStart[id])..<Int(byteStart[id + 1])]
    }

    // MARK: One trie per model

    private struct Entry {
        weak var model: Model?
        let trie: TokenTrie
    }

    private static let cache = Mutex<[ObjectIdentifier: Entry]>([:])

    /// The trie of `model`'s vocabulary, built on first use and kept while the model lives
    /// (a 150k-token vocabulary takes a noticeable fraction of a second to sort).
    public static func shared(for model: Model) -> TokenTrie {
        let key = ObjectIdentifier(model)
        if let entry = cache.withLock({ $0[key] }), entry.model === model { return entry.trie }
        let trie = TokenTrie(tokenizer: model.tokenizer, endOfGeneration: model.endOfGenerationTokens)
        cache.withLock { entries in
            entries = entries.filter { $0.value.model != nil }
            entries[key] = Entry(model: model, trie: trie)
        }
        return trie
    }
}
