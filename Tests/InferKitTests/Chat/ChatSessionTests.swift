import Foundation
import Testing
@testable import InferKit

/// Conversations over a real tiny model: KV reuse, streaming, cancellation, context limits.
@Suite(.enabled(if: SharedData.available, SharedData.missingMessage))
struct ChatSessionTests {
    static let model: Model = try! Model(path: SharedData.path("models/stories260K.gguf"))

    static func greedy(_ maxTokens: Int) -> GenerateParameters {
        var p = GenerateParameters.greedy
        p.maxTokens = maxTokens
        return p
    }

    /// Runs a turn through the synchronous API, returning the answer and statistics.
    static func turn(_ chat: ChatSession, _ text: String) throws -> (String, FinishReason, GenerationStats) {
        var generator = try chat.beginTurn(.user(text))
        var answer = ""
        while let event = try generator.next() {
            switch event {
            case .text(let piece, _): answer += piece
            case .finished(let reason, let stats):
                chat.endTurn(answer: answer, stats: stats)
                return (answer, reason, stats)
            }
        }
        Issue.record("no finish event")
        return (answer, .stop, GenerationStats())
    }

    @Test func secondTurnOnlyComputesItsNewTokens() throws {
        let chat = try ChatSession(model: Self.model, parameters: Self.greedy(24))
        let (first, _, stats1) = try Self.turn(chat, "Hello there")
        #expect(stats1.reusedTokens == 0)
        let heldAfterFirst = chat.contextUsed
        let (second, _, stats2) = try Self.turn(chat, "Tell me a story")
        #expect(stats2.reusedTokens == heldAfterFirst, "the whole first exchange stays cached")
        #expect(stats2.promptTokens < 30, "only the new user turn is computed, not \(stats2.promptTokens) tokens")
        #expect(!first.isEmpty && !second.isEmpty)

        // The cached answer equals a fresh computation of the same prompt.
        let prompt = try chat.prompt()  // the conversation now ends with the second answer
        let promptBeforeSecond = String(prompt[..<prompt.range(of: "Assistant:", options: .backwards)!.upperBound])
        let tokens = Self.model.tokenizer.encode(promptBeforeSecond, options: EncodeOptions(parseSpecial: true))
        var fresh = try Generator(session: try Session(model: Self.model), prompt: tokens, parameters: Self.greedy(24))
        var freshText = ""
        while let event = try fresh.next() { if case .text(let piece, _) = event { freshText += piece } }
        #expect(freshText.trimmingCharacters(in: .whitespaces) == second.trimmingCharacters(in: .whitespaces))
    }

    @Test func streamsAndCancels() async throws {
        let chat = try ChatSession(model: Self.model, parameters: Self.greedy(200))
        let stream = chat.respond(to: "Once upon a time")
        var pieces = 0
        var reason: FinishReason?
        for try await event in stream {
            switch event {
            case .text: pieces += 1
            case .finished(let r, _): reason = r
            }
            if pieces == 3 { break }  // leaving the loop cancels the generating task
        }
        #expect(pieces == 3 && reason == nil)
        // Leaving the loop records the partial answer.
        #expect(chat.messages.count == 2 && chat.messages[1].role == "assistant")

        // A cancelled task ends with `.cancelled`, and the partial answer joins the conversation.
        let task = Task { () -> (String, FinishReason?) in
            var text = ""
            var reason: FinishReason?
            for try await event in chat.respond(to: "And then?") {
                switch event {
                case .text(let piece, _):
                    text += piece
                    if text.count > 10 { withUnsafeCurrentTask { $0?.cancel() } }
                case .finished(let r, _): reason = r
                }
            }
            return (text, reason)
        }
        let (text, cancelledReason) = try await task.value
        #expect(cancelledReason == .cancelled)
        #expect(chat.messages.last?.role == "assistant")
        #expect(chat.messages.last?.content?.string == text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test func fullContextDropsOldestTurnsKeepingTheSystemPrompt() throws {
        let chat = try ChatSession(model: Self.model, systemPrompt: "Stories.", parameters: Self.greedy(12), contextLength: 96)
        for i in 0..<8 { _ = try Self.turn(chat, "Tell me about the dog number \(i) please") }
        #expect(chat.messages.first == .system("Stories."))
        #expect(chat.messages.count < 17, "old turns were dropped")
        #expect(chat.messages[chat.messages.count - 2] == .user("Tell me about the dog number 7 please"))
        #expect(chat.contextUsed <= 96)
    }

    @Test func fullContextIsAnErrorWithoutShift() throws {
        let chat = try ChatSession(model: Self.model, parameters: Self.greedy(12), contextLength: 64, contextShift: false)
        var failed = false
        for i in 0..<8 {
            do { _ = try Self.turn(chat, "Tell me about the dog number \(i) please") } catch let error as InferError {
                guard case .contextFull = error else { throw error }
                failed = true
                break
            }
        }
        #expect(failed)
        // The failed message did not join the conversation.
        #expect(chat.messages.last?.role == "assistant")
    }

    @Test func templateErrorsLeaveTheConversationAlone() throws {
        let strict = try ChatTemplate(source: "{% if messages[-1].content == 'bad' %}{{ raise_exception('no bad words') }}{% endif %}{% for m in messages %}{{ m.content }}\n{% endfor %}")
        let chat = try ChatSession(model: Self.model, template: strict, parameters: Self.greedy(5))
        #expect(throws: ChatTemplateError.self) { _ = try Self.turn(chat, "bad") }
        #expect(chat.messages.isEmpty)
        _ = try Self.turn(chat, "good")
        #expect(chat.messages.count == 2)
    }
}
