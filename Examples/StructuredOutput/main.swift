import Foundation
import InferKit

// Usage: infer-structured-example MODEL.gguf
guard CommandLine.arguments.count == 2 else {
    print("usage: infer-structured-example MODEL.gguf")
    exit(2)
}
let model = try Model(path: CommandLine.arguments[1])

// JSON that follows a schema: tokens that would break it are never sampled.
let schema = try JSONValue(parsing: """
    {"type": "object", "properties": {"name": {"type": "string", "maxLength": 20},
     "age": {"type": "integer", "minimum": 0, "maximum": 120}}, "required": ["name", "age"]}
    """)
var parameters = GenerateParameters(maxTokens: 100, seed: 1)
parameters.grammar = try Grammar(jsonSchema: schema)
let writer = try ChatSession(model: model, parameters: parameters)
let person = try await writer.reply(to: "Describe a person as JSON.")
print(person.content ?? "")

// A tool the model must call: its answer is a well-formed call, parsed.
let weather = Tool(name: "get_weather", description: "The weather in a city",
                   parameters: ["type": "object", "properties": ["city": ["type": "string"]], "required": ["city"]])
let assistant = try ChatSession(model: model, parameters: GenerateParameters(maxTokens: 100, seed: 1), tools: [weather])
assistant.toolChoice = .required
let reply = try await assistant.reply(to: "What is the weather in Paris?")
for call in reply.toolCalls { print("\(call.name)(\(call.arguments))") }

// Run the tools, send their results back, and read the answer.
let results = reply.toolCalls.map { ToolResult(callID: $0.id, content: "21 °C and sunny") }
assistant.toolChoice = .auto
let answer = try await assistant.reply(with: results)
print(answer.content ?? "")
