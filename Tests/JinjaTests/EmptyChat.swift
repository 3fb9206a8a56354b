import Foundation
import Jinja

extension JinjaTemplate {
    /// Renders with the variables a chat template gets for a conversation with no messages
    /// (what `ChatTemplate.render(messages: [])` in InferKit gives it), and then `extra`.
    func renderEmptyChat(addGenerationPrompt: Bool = true, extra: [String: JSONValue] = [:],
                         limits: Limits = Limits(), now: Date = Date()) throws -> String {
        var variables: [String: JSONValue] = [
            "messages": .array([]), "tools": .null, "documents": .null,
            "add_generation_prompt": .bool(addGenerationPrompt), "bos_token": .string(""), "eos_token": .string(""),
        ]
        for (name, value) in extra { variables[name] = value }
        return try render(variables: variables, limits: limits, now: now)
    }
}
