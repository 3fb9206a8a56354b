import Foundation
import Testing

/// Comments in Sources/ and Kernels/ say what the code does and why, true on any machine:
/// dates, speeds measured on one host and the host itself belong in Benchmarks/README.md
/// ("Design decisions and their measurements"), where a change of machine or of code can
/// update them in one place.
struct SourceCommentTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// What a comment may not say (matched without regard to case).
    static let forbidden = ["2025-", "2026-", "t/s", "GB/s", "this host", "this machine"]

    /// The comment text of each line of a Swift or C file, with its line number: what follows
    /// `//` (outside a string literal), and the lines of `/* ... */` blocks.
    static func comments(of text: String) -> [(line: Int, text: String)] {
        var result: [(line: Int, text: String)] = []
        var inBlock = false
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let characters = Array(line)
            var comment = ""
            var inString = false
            var i = 0
            while i < characters.count {
                let c = characters[i], next: Character? = i + 1 < characters.count ? characters[i + 1] : nil
                if inBlock {
                    if c == "*" && next == "/" { inBlock = false; i += 2; continue }
                    comment.append(c)
                } else if inString {
                    if c == "\\" { i += 2; continue }
                    if c == "\"" { inString = false }
                } else if c == "\"" {
                    inString = true
                } else if c == "/" && next == "/" {
                    comment += String(characters[(i + 2)...])
                    break
                } else if c == "/" && next == "*" {
                    inBlock = true
                    i += 2
                    continue
                }
                i += 1
            }
            if !comment.isEmpty { result.append((index + 1, comment)) }
        }
        return result
    }

    @Test func commentsFindCommentsOnly() {
        let found = Self.comments(of: "let a = \"t/s // no\" // yes t/s\n/* one\n two */ x\nint b; /* three */")
        #expect(found.map(\.line) == [1, 2, 3, 4])
        #expect(found[0].text == " yes t/s")
        #expect(found[2].text == " two ")
    }

    @Test func noCommentMentionsADateAHostOrAMeasuredSpeed() throws {
        var offending: [String] = []
        for folder in ["Sources", "Kernels"] {
            let root = Self.repository.appendingPathComponent(folder)
            let files = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)!
                .compactMap { $0 as? URL }
                .filter { ["swift", "c", "h"].contains($0.pathExtension) }
            #expect(!files.isEmpty, "no sources found under \(root.path)")
            for file in files {
                let text = try String(contentsOf: file, encoding: .utf8)
                for (line, comment) in Self.comments(of: text) {
                    let lowered = comment.lowercased()
                    for word in Self.forbidden where lowered.contains(word.lowercased()) {
                        let relative = file.path.dropFirst(Self.repository.path.count + 1)
                        offending.append("\(relative):\(line): '\(word)' in a comment: \(comment.trimmingCharacters(in: .whitespaces))")
                    }
                }
            }
        }
        #expect(offending.isEmpty, "\(offending.joined(separator: "\n"))")
    }
}
