import Foundation
import Testing
import InferKit

/// The variables a chat template is rendered with, as transformers' `apply_chat_template` sets them.
struct ChatTemplateVariablesTests {
    @Test func renderVariablesFollowTransformers() throws {
        let template = try ChatTemplate(source: "{{ bos_token }}|{{ messages | length }}|{{ tools }}|{{ documents }}|{{ add_generation_prompt }}|{{ extra }}")
        let output = try template.render(messages: [.user("hi")], addGenerationPrompt: true, bosToken: "<s>", extra: ["extra": [1, "a"]])
        #expect(output == "<s>|1|None|None|True|[1, 'a']")
        let withTools = try ChatTemplate(source: "{{ tools[0].function.name }}").render(messages: [], tools: [["function": ["name": "f"]]])
        #expect(withTools == "f")
    }
}
