/// Separates a model's answer into text and tool calls as it streams: text is passed on as
/// soon as it cannot be the start of a call, calls once they are complete. Whitespace next to
/// a call or at the end is dropped. `parse` runs the same separation over a whole answer, so
/// a streamed answer and a whole one agree.
public struct ToolCallStream: Sendable {
    public enum Event: Sendable, Equatable {
        case content(String)
        /// A complete call: the function's name and its arguments object.
        case call(name: String, arguments: JSONValue)
    }

    public let format: ToolCallFormat
    private var buffer = ""
    private var inCall = false
    /// Llama 3 and Mistral calls are the whole answer: until its first character is known,
    /// nothing is passed on; once it opens a call, everything is kept for the end. A Hermes-style
    /// model may also answer with the bare call object, without its `<tool_call>` tags (small
    /// Qwen2.5 models do): an answer that opens with `{` or `[` is kept for the end likewise.
    private var decided = false
    private var callAnswer = false
    /// After a call, whitespace is dropped, and text that follows goes on a new line.
    private var afterCall = false
    private var wroteContent = false

    public init(format: ToolCallFormat) {
        self.format = format
    }

    /// The text and calls of a whole answer.
    public static func parse(_ text: String, format: ToolCallFormat) -> (content: String?, calls: [(name: String, arguments: JSONValue)]) {
        var stream = ToolCallStream(format: format)
        let events = stream.feed(text) + stream.finish()
        var content = ""
        var calls: [(String, JSONValue)] = []
        for event in events {
            switch event {
            case .content(let text): content += text
            case .call(let name, let arguments): calls.append((name, arguments))
            }
        }
        return (content.isEmpty ? nil : content, calls)
    }

    /// Adds streamed text; returns what became certain.
    public mutating func feed(_ text: String) -> [Event] {
        buffer += text
        if !decided {
            let start = buffer.drop { $0.isWhitespace }
            guard let first = start.first else { return [] }
            decided = true
            callAnswer = first == "{" || first == "[" || (format != .hermes && start.hasPrefix("<|python_tag|>"))
        }
        if callAnswer { return [] }
        return format == .hermes ? scanHermes(final: false) : flushContent(final: false)
    }

    /// The end of the answer: what was held back.
    public mutating func finish() -> [Event] {
        if callAnswer {
            defer { buffer = "" }
            if let calls = Self.wholeAnswerCalls(buffer, format: format) { return calls }
            return [.content(buffer)].filter { $0 != .content("") }
        }
        if format == .hermes {
            var events = scanHermes(final: true)
            if inCall {
                // An unterminated call: a call if it parses, else text.
                let block = buffer
                buffer = ""
                inCall = false
                if let call = Self.hermesCall(block) {
                    events.append(call)
                } else {
                    events += text("<tool_call>" + block)
                }
            }
            return events
        }
        return flushContent(final: true)
    }

    // MARK: Hermes: <tool_call>{...}</tool_call> blocks among text

    private mutating func scanHermes(final: Bool) -> [Event] {
        var events: [Event] = []
        while true {
            if inCall {
                guard let end = buffer.range(of: "</tool_call>") else { return events }
                let block = String(buffer[..<end.lowerBound])
                buffer = String(buffer[end.upperBound...])
                inCall = false
                if let call = Self.hermesCall(block) {
                    events.append(call)
                    afterCall = true
                } else {
                    events += text("<tool_call>" + block + "</tool_call>")
                }
            } else if let start = buffer.range(of: "<tool_call>") {
                let before = String(buffer[..<start.lowerBound]).trimmingWhitespace
                if !before.isEmpty { events += text(before) }
                buffer = String(buffer[start.upperBound...])
                inCall = true
            } else {
                return events + flushContent(final: final, holding: "<tool_call>")
            }
        }
    }

    /// Text to pass on: after a call, on a line of its own.
    private mutating func text(_ text: String) -> [Event] {
        var text = text
        if afterCall {
            text = String(text.drop { $0.isWhitespace })
            guard !text.isEmpty else { return [] }
            if wroteContent { text = "\n" + text }
            afterCall = false
        }
        guard !text.isEmpty else { return [] }
        wroteContent = true
        return [.content(text)]
    }

    private static func hermesCall(_ block: String) -> Event? {
        guard let object = try? JSONValue(parsing: block.trimmingWhitespace), let name = object["name"]?.string else { return nil }
        guard let arguments = argumentsObject(object["arguments"] ?? object["parameters"]) else { return nil }
        return .call(name: name, arguments: arguments)
    }

    // MARK: Llama 3 and Mistral: the whole answer is the call(s)

    private static func wholeAnswerCalls(_ text: String, format: ToolCallFormat) -> [Event]? {
        var body = text.trimmingWhitespace
        for prefix in ["<|python_tag|>", "[TOOL_CALLS]"] where body.hasPrefix(prefix) {
            body = String(body.dropFirst(prefix.count)).trimmingWhitespace
        }
        if format == .llama3 {
            // One object, or several separated by ';' (as Llama 3.1 sometimes writes them).
            var calls: [Event] = []
            for part in body.split(separator: ";") {
                guard let object = try? JSONValue(parsing: String(part).trimmingWhitespace), let call = call(object) else { return nil }
                calls.append(call)
            }
            return calls.isEmpty ? nil : calls
        }
        guard let value = try? JSONValue(parsing: body) else { return nil }
        let objects = value.array ?? [value]
        let calls = objects.compactMap(call)
        return calls.count == objects.count && !calls.isEmpty ? calls : nil
    }

    private static func call(_ object: JSONValue) -> Event? {
        guard let name = object["name"]?.string, let arguments = argumentsObject(object["arguments"] ?? object["parameters"]) else { return nil }
        return .call(name: name, arguments: arguments)
    }

    /// Arguments as an object: written as one, as JSON text of one, or absent (no arguments).
    private static func argumentsObject(_ value: JSONValue?) -> JSONValue? {
        switch value {
        case nil, .null?: return .object(JSONObject())
        case .object?: return value
        case .string(let text)?: return (try? JSONValue(parsing: text)).flatMap { $0.object != nil ? $0 : nil }
        default: return nil
        }
    }

    // MARK: Text

    /// Passes on the buffer's text, holding back trailing whitespace (it may precede a call)
    /// and a tail that could begin `holding`.
    private mutating func flushContent(final: Bool, holding marker: String? = nil) -> [Event] {
        if afterCall { buffer = String(buffer.drop { $0.isWhitespace }) }
        if final {
            let rest = String(buffer.reversed().drop { $0.isWhitespace }.reversed())
            buffer = ""
            return text(rest)
        }
        var keep = buffer.endIndex
        if let marker {
            for length in stride(from: min(marker.count - 1, buffer.count), to: 0, by: -1)
            where buffer.hasSuffix(marker.prefix(length)) {
                keep = buffer.index(buffer.endIndex, offsetBy: -length)
                break
            }
        }
        while keep > buffer.startIndex, buffer[buffer.index(before: keep)].isWhitespace { keep = buffer.index(before: keep) }
        let ready = String(buffer[..<keep])
        buffer = String(buffer[keep...])
        return text(ready)
    }
}

extension StringProtocol {
    var trimmingWhitespace: String {
        String(drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}
