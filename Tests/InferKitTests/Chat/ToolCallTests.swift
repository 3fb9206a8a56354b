import Foundation
import Testing
@testable import InferKit

/// Tool calls: parsing the three formats (whole and streamed), the grammar of required calls,
/// and tools in chat templates.
struct ToolCallTests {
    typealias Call = (name: String, arguments: JSONValue)

    static func calls(_ text: String, _ format: ToolCallFormat) -> (String?, [String]) {
        let (content, calls) = ToolCallStream.parse(text, format: format)
        return (content, calls.map { "\($0.name) \($0.arguments.jsonText)" })
    }

    @Test func hermesCalls() {
        let text = "Let me look.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>\n<tool_call>\n{\"name\": \"now\", \"arguments\": \"{}\"}\n</tool_call>"
        #expect(Self.calls(text, .hermes) == ("Let me look.", [#"get_weather {"city":"Paris"}"#, "now {}"]))
        // Unterminated (the model stopped after the JSON), without arguments.
        #expect(Self.calls("<tool_call>\n{\"name\": \"ping\"}", .hermes) == (nil, ["ping {}"]))
        // Not a call: kept as text.
        #expect(Self.calls("<tool_call>oops</tool_call> done", .hermes) == ("<tool_call>oops</tool_call> done", []))
        #expect(Self.calls("A\n<tool_call>{\"name\": \"f\"}</tool_call>\n\nB", .hermes) == ("A\nB", ["f {}"]))
        #expect(Self.calls("No tools needed, it is <b>sunny</b>.", .hermes) == ("No tools needed, it is <b>sunny</b>.", []))
        #expect(Self.calls("", .hermes) == (nil, []))
        // A bare call object without its tags (as Qwen2.5-Coder-0.5B answers): a call.
        #expect(Self.calls(#" {"name": "get_weather", "arguments": {"city": "Paris"}}"#, .hermes) == (nil, [#"get_weather {"city":"Paris"}"#]))
        // JSON that is not a call stays text.
        #expect(Self.calls(#"{"city": "Paris", "sky": "sunny"}"#, .hermes) == (#"{"city": "Paris", "sky": "sunny"}"#, []))
    }

    @Test func llama3Calls() {
        #expect(Self.calls(#"{"name": "get_weather", "parameters": {"city": "Oslo"}}"#, .llama3) == (nil, [#"get_weather {"city":"Oslo"}"#]))
        #expect(Self.calls(#"<|python_tag|>{"name": "a", "parameters": {}}; {"name": "b", "parameters": {"x": 1}}"#, .llama3)
                == (nil, ["a {}", #"b {"x":1}"#]))
        #expect(Self.calls(#"{"answer": 42}"#, .llama3) == (#"{"answer": 42}"#, []))
        #expect(Self.calls("The weather is fine.", .llama3) == ("The weather is fine.", []))
    }

    @Test func mistralCalls() {
        #expect(Self.calls(#"[{"name": "get_weather", "arguments": {"city": "Rome"}, "id": "abcdefghi"}]"#, .mistral)
                == (nil, [#"get_weather {"city":"Rome"}"#]))
        #expect(Self.calls(#"[TOOL_CALLS] [{"name": "a", "arguments": {}}, {"name": "b", "arguments": {"n": 2}}]"#, .mistral)
                == (nil, ["a {}", #"b {"n":2}"#]))
        #expect(Self.calls("[1, 2, 3]", .mistral) == ("[1, 2, 3]", []))
    }

    /// However the text is split into streamed pieces, the events add up to the whole parse.
    @Test(arguments: [
        ("Sure.\n<tool_call>\n{\"name\": \"f\", \"arguments\": {\"a\": \"<tool_call>\"}}\n</tool_call>\nDone <tool", ToolCallFormat.hermes),
        ("Plain text with < and <tool but no call.  ", .hermes),
        (#"{"name": "f", "parameters": {"q": "x"}}"#, .llama3),
        (#"[{"name": "f", "arguments": {}}]"#, .mistral),
        ("  Just words.", .mistral),
    ])
    func streamingAgreesWithTheWhole(text: String, format: ToolCallFormat) {
        let whole = ToolCallStream.parse(text, format: format)
        let characters = Array(text)
        for size in [1, 2, 3, 7] {
            var stream = ToolCallStream(format: format)
            var events: [ToolCallStream.Event] = []
            for start in stride(from: 0, to: characters.count, by: size) {
                events += stream.feed(String(characters[start..<min(start + size, characters.count)]))
            }
            events += stream.finish()
            var content = "", calls: [String] = []
            for event in events {
                switch event {
                case .content(let piece): content += piece
                case .call(let name, let arguments): calls.append("\(name) \(arguments.jsonText)")
                }
            }
            #expect((content.isEmpty ? nil : content) == whole.content, "pieces of \(size)")
            #expect(calls == whole.calls.map { "\($0.name) \($0.arguments.jsonText)" }, "pieces of \(size)")
        }
    }

    static let weather = Tool(name: "get_weather", description: "The weather in a city",
                              parameters: ["type": "object", "properties": ["city": ["type": "string", "maxLength": 20],
                                                                            "unit": ["enum": ["C", "F"]]],
                                           "required": ["city"]])
    static let time = Tool(name: "get_time")

    @Test func toolsFromOpenAIJSON() throws {
        let tool = try Tool(json: Self.weather.json)
        #expect(tool == Self.weather)
        for (json, problem) in [
            (#"{"type": "function"}"#, "tools[0].function: must be an object"),
            (#"{"type": "retrieval", "function": {"name": "f"}}"#, "tools[0].type"),
            (#"{"type": "function", "function": {"name": "bad name"}}"#, "tools[0].function.name"),
            (#"{"type": "function", "function": {"name": "f", "parameters": "x"}}"#, "tools[0].function.parameters"),
            (#"[1]"#, "tools[0]: must be an object"),
        ] {
            #expect(throws: InferError.self, "\(problem)") { try Tool(json: JSONValue(parsing: json), param: "tools[0]") }
            do {
                _ = try Tool(json: JSONValue(parsing: json), param: "tools[0]")
            } catch {
                #expect("\(error)".contains(problem), "\(error)")
            }
        }
    }

    @Test func requiredCallGrammars() throws {
        let tokenizer = ListTokenizer(texts: ["a"])
        let hermes = try ToolCallGrammar.grammar(tools: [Self.weather, Self.time], choice: .required, format: .hermes, parallel: true, tokenizer: tokenizer)
        #expect(hermes.matches("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"unit\": \"C\"}}\n</tool_call>"))
        #expect(hermes.matches("<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}\n</tool_call>\n<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}\n</tool_call>"))
        #expect(!hermes.matches("<tool_call>\n{\"name\": \"get_wether\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>"))
        #expect(!hermes.matches("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {}}\n</tool_call>"))  // city is required
        let named = try ToolCallGrammar.grammar(tools: [Self.weather, Self.time], choice: .function("get_time"), format: .hermes, parallel: false, tokenizer: tokenizer)
        #expect(named.matches("<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}\n</tool_call>"))
        #expect(!named.matches("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"X\"}}\n</tool_call>"))
        let llama = try ToolCallGrammar.grammar(tools: [Self.weather], choice: .required, format: .llama3, parallel: true, tokenizer: tokenizer)
        #expect(llama.matches(#"{"name": "get_weather", "parameters": {"city": "Oslo"}}"#))
        let mistral = try ToolCallGrammar.grammar(tools: [Self.weather], choice: .required, format: .mistral, parallel: true, tokenizer: tokenizer)
        #expect(mistral.matches(#"[TOOL_CALLS][{"name": "get_weather", "arguments": {"city": "Oslo"}}, {"name": "get_weather", "arguments": {"city": "Rome"}}]"#))
        let badParameters = Tool(name: "f", parameters: ["type": "object", "properties": ["n": ["type": "integer", "multipleOf": 2]]])
        #expect(throws: GrammarError.self) {
            try ToolCallGrammar.grammar(tools: [badParameters], choice: .required, format: .hermes, parallel: true, tokenizer: tokenizer)
        }
    }
}

/// Tools, calls and results through real chat templates, and a ChatSession that calls a tool.
@Suite(.enabled(if: SharedData.available, SharedData.missingMessage))
struct ToolConversationTests {
    static let model: Model = try! Model(path: SharedData.path("models/stories260K.gguf"))

    static func prompt(_ template: String) throws -> ChatPrompt {
        let source = try String(contentsOfFile: SharedData.path("templates/\(template).jinja"), encoding: .utf8)
        return try ChatPrompt(model: model, template: ChatTemplate(source: source))
    }

    /// A conversation with a call (its arguments as OpenAI sends them: JSON text) and its result.
    static func conversation(callID: String) -> [ChatMessage] {
        let call = ToolCall(id: callID, name: "get_weather", arguments: #"{"city": "Paris"}"#)
        return [.user("Weather in Paris?"),
                ChatMessage(role: "assistant", content: nil, extra: JSONObject([("tool_calls", .array([call.json]))])),
                ToolResult(callID: callID, content: #"{"temperature": 21}"#).message]
    }

    @Test func qwenTemplateShowsToolsCallsAndResults() throws {
        let prompt = try Self.prompt("Qwen-Qwen2.5-7B-Instruct")
        #expect(prompt.toolCallFormat == .hermes && prompt.templateShowsTools)
        let text = try prompt.text(for: Self.conversation(callID: "call_1"), tools: [ToolCallTests.weather])
        #expect(text.contains("<tools>\n{\"type\": \"function\", \"function\": {\"name\": \"get_weather\""))
        #expect(text.contains("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>"), "\(text)")
        #expect(text.contains("<tool_response>\n{\"temperature\": 21}\n</tool_response>"))
        #expect(text.hasSuffix("<|im_start|>assistant\n"))
    }

    @Test func llamaAndMistralTemplates() throws {
        let llama = try Self.prompt("meta-llama-Llama-3.1-8B-Instruct")
        #expect(llama.toolCallFormat == .llama3)
        let text = try llama.text(for: Self.conversation(callID: "call_1"), tools: [ToolCallTests.weather])
        #expect(text.contains(#"{"name": "get_weather", "parameters": {"city": "Paris"}}"#), "\(text)")
        #expect(text.contains("<|start_header_id|>ipython<|end_header_id|>") && text.contains("temperature"))
        let mistral = try Self.prompt("mistralai-Mistral-Nemo-Instruct-2407")
        #expect(mistral.toolCallFormat == .mistral)
        let id = ToolCall.makeID(for: .mistral)
        #expect(id.count == 9)
        let mistralText = try mistral.text(for: Self.conversation(callID: id), tools: [ToolCallTests.weather])
        #expect(mistralText.contains("[AVAILABLE_TOOLS]") && mistralText.contains("[TOOL_CALLS]") && mistralText.contains("[TOOL_RESULTS]"), "\(mistralText)")
    }

    @Test func templatesWithoutToolsAreToldAboutThem() throws {
        let prompt = try ChatPrompt(model: Self.model, template: ChatTemplate.builtin(named: "chatml"))
        #expect(!prompt.templateShowsTools && prompt.toolCallFormat == .hermes)
        let text = try prompt.text(for: [.system("Be brief.")] + Self.conversation(callID: "call_1"), tools: [ToolCallTests.weather])
        #expect(text.contains("Be brief.\n\n# Tools") && text.contains(#""name":"get_weather""#))
        #expect(text.contains("<|im_start|>assistant\n<tool_call>\n{\"name\":\"get_weather\",\"arguments\":{\"city\":\"Paris\"}}\n</tool_call>"), "\(text)")
        #expect(text.contains("<|im_start|>user\n<tool_response>\n{\"temperature\": 21}\n</tool_response>"))
    }

    /// A required call, its result sent back, and a final answer: the conversation keeps the
    /// call and the result, rendered by the template.
    @Test func chatSessionCallsAToolAndGetsItsResult() async throws {
        let chat = try ChatSession(model: Self.model, template: ChatTemplate.builtin(named: "chatml"),
                                   parameters: GenerateParameters(maxTokens: 120, temperature: 1, seed: 11),
                                   tools: [ToolCallTests.weather, ToolCallTests.time])
        chat.toolChoice = .required
        chat.parallelToolCalls = false
        let first = try await chat.reply(to: "What is the weather in Paris?")
        #expect(first.finishReason == .stop)
        let call = try #require(first.toolCalls.first, "\(first)")
        #expect(first.toolCalls.count == 1 && ["get_weather", "get_time"].contains(call.name))
        #expect(call.argumentsJSON?.object != nil)
        if call.name == "get_weather" { #expect(call.argumentsJSON?["city"]?.string != nil) }
        chat.toolChoice = .auto
        let second = try await chat.reply(with: [ToolResult(callID: call.id, content: "21 C, sunny")])
        #expect(second.finishReason != .cancelled)
        #expect(chat.messages.map(\.role) == ["user", "assistant", "tool", "assistant"])
        #expect(chat.messages[1]["tool_calls"]?.array?.count == 1)
        let prompt = try chat.prompt()
        #expect(prompt.contains("<tool_response>\n21 C, sunny\n</tool_response>") && prompt.contains("<tool_call>"))
    }
}
