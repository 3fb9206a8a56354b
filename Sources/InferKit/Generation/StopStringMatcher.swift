/// Watches streamed text for stop strings that may arrive split across tokens. Text that
/// could still be the start of a stop string is held back until it is ruled out, so a
/// stop string never reaches the output, not even in part.
public struct StopStringMatcher: Sendable {
    private let stops: [[UInt8]]
    private var held: [UInt8] = []

    public init(_ stops: [String]) {
        self.stops = stops.filter { !$0.isEmpty }.map { Array($0.utf8) }
    }

    /// Adds generated text. Returns the text that is safe to show, and whether a stop
    /// string was completed (then everything from it on is dropped).
    public mutating func feed(_ text: String) -> (emit: String, stopped: Bool) {
        guard !stops.isEmpty else { return (text, false) }
        held += text.utf8
        // The earliest complete stop string wins.
        var earliest: Int?
        for stop in stops {
            if let at = StopStringMatcher.firstIndex(of: stop, in: held), at < (earliest ?? .max) { earliest = at }
        }
        if let at = earliest {
            let emit = String(decoding: held[..<at], as: UTF8.self)
            held.removeAll()
            return (emit, true)
        }
        // Hold back the longest tail that is a proper prefix of some stop string.
        var keep = 0
        for stop in stops {
            for length in stride(from: min(stop.count - 1, held.count), to: keep, by: -1)
            where held.suffix(length).elementsEqual(stop.prefix(length)) {
                keep = length
                break
            }
        }
        let emit = String(decoding: held[..<(held.count - keep)], as: UTF8.self)
        held.removeFirst(held.count - keep)
        return (emit, false)
    }

    /// Text still held back, released when generation ends without a stop string.
    public mutating func flush() -> String {
        defer { held.removeAll() }
        return String(decoding: held, as: UTF8.self)
    }

    private static func firstIndex(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        for start in 0...(haystack.count - needle.count)
        where haystack[start] == needle[0] && haystack[start..<(start + needle.count)].elementsEqual(needle) {
            return start
        }
        return nil
    }
}
