import Testing
@testable import InferKit

/// The public value types templates are given.
struct ChatInputTests {
    @Test func messagesKeepTheirMembersInOrder() throws {
        let call = ChatMessage(role: "assistant", content: nil, extra: JSONObject([
            ("tool_calls", [["function": ["name": "f", "arguments": ["b": 1, "a": 2]]]]),
        ]))
        #expect(call.fields.keys == ["role", "content", "tool_calls"])
        let template = try ChatTemplate(source: "{% for m in messages %}{{ m.content is none }} {{ m.tool_calls[0].function.arguments | tojson }}{% endfor %}")
        #expect(try template.render(messages: [call]) == "True {\"b\": 1, \"a\": 2}")
        #expect(throws: InferError.self) { try ChatMessage(json: ["content": "no role"]) }
        #expect(throws: InferError.self) { try ChatMessage(json: "text") }
    }

    @Test func jsonParsingMatchesPython() throws {
        let json = try JSONValue(parsing: #" {"b": [1, 1.0, -2e3, true, null, "\u00e9\ud83e\udd99\n"], "a": {}, "b": "last wins, first place"} "#)
        // The object keeps the members as parsed; lookup, and a template, see Python's dict.
        #expect(json.object?.keys == ["b", "a", "b"])
        #expect(json["b"] == "last wins, first place")
        let seen = try ChatTemplate(source: "{{ d }}").render(messages: [], extra: ["d": json])
        #expect(seen == "{'b': 'last wins, first place', 'a': {}}")
        // Keys are exact: "é" composed and decomposed are two members.
        let forms = try JSONValue(parsing: "{\"\u{E9}\": 1, \"e\u{301}\": 2}")
        #expect(forms["\u{E9}"] == 1)
        #expect(forms["e\u{301}"] == 2)
        let list = try JSONValue(parsing: #"[1, 1.0, -2e3, true, null, "\u00e9\ud83e\udd99\n", NaN]"#).array ?? []
        #expect(Array(list.prefix(6)) == [1, 1.0, -2000.0, true, nil, "é🦙\n"])
        for bad in ["[1,]", "{\"a\" 1}", "[01]", "\"\u{01}\"", "[1] x", String(repeating: "[", count: 1000)] {
            #expect(throws: JSONError.self, "\(bad)") { try JSONValue(parsing: bad) }
        }
        let error = #expect(throws: JSONError.self) { try JSONValue(parsing: "[\n  1,\n  ]") }
        #expect(error?.line == 3)
        #expect(error?.column == 3)
        #expect(error?.message == "unexpected character ']' at byte 9")
    }
}
