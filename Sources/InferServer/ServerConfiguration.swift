import InferKit

/// How the server listens and how many requests it serves at once.
public struct ServerConfiguration: Sendable {
    /// Address to listen on: loopback unless told otherwise.
    public var host: String
    /// Port; 0 picks a free one (the server reports it when listening).
    public var port: Int
    /// Requests generated at the same time, each in its own slot: a session with its own KV
    /// cache of `contextLength` positions (memory grows with both).
    public var parallel: Int
    /// Positions in each slot's context; nil: the model's, at most 4096.
    public var contextLength: Int?
    /// Threads the server computes with (every slot's tokens are computed together); nil: the
    /// machine's cores.
    public var threads: Int?
    /// How each slot's KV cache stores keys and values.
    public var cacheType: KVCacheType
    /// Whether a slot whose context fills during an answer shifts it and goes on.
    public var contextShift: Bool
    /// Requests that may wait for a slot; further ones get 503 with Retry-After.
    public var queueLimit: Int
    /// When set, requests must carry `Authorization: Bearer KEY` (all but /health).
    public var apiKey: String?
    /// Largest request body accepted, in bytes (larger ones get 413).
    public var maxBodyBytes: Int
    /// The model's name in requests and responses; nil: the file name without its extension
    /// (as llama.cpp's server names it).
    public var modelID: String?
    /// The chat template for chat requests; nil: the model's own, or the built-in plain
    /// "User:/Assistant:" transcript when the model has none.
    public var chatTemplate: ChatTemplate?
    /// Where `POST /slots/{id}?action=save|restore` keeps slot files; nil: slot actions are off.
    public var slotSavePath: String?
    /// How many connections may be open, how long a client may take, how large its headers.
    public var connections: ConnectionLimits

    public init(host: String = "127.0.0.1", port: Int = 8080, parallel: Int = 2, contextLength: Int? = nil,
                threads: Int? = nil, cacheType: KVCacheType = Session.defaultCacheType,
                contextShift: Bool = true, queueLimit: Int = 16, apiKey: String? = nil,
                maxBodyBytes: Int = 8 << 20, modelID: String? = nil, chatTemplate: ChatTemplate? = nil,
                slotSavePath: String? = nil,
                connections: ConnectionLimits = ConnectionLimits()) {
        self.slotSavePath = slotSavePath
        self.connections = connections
        self.threads = threads
        self.cacheType = cacheType
        self.contextShift = contextShift
        self.host = host
        self.port = port
        self.parallel = parallel
        self.contextLength = contextLength
        self.queueLimit = queueLimit
        self.apiKey = apiKey
        self.maxBodyBytes = maxBodyBytes
        self.modelID = modelID
        self.chatTemplate = chatTemplate
        self.connections = connections
    }
}
