import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The global functions a chat template can call: Jinja2's `range`, `dict` and `namespace`
/// (with the sandbox's limits), and the two transformers adds, `raise_exception` and
/// `strftime_now`.
extension Jinja {
    enum Globals {
        /// The sandbox refuses ranges longer than this (Jinja2's `MAX_RANGE`).
        static let maxRange = 100_000

        static func functions() -> [String: Value] {
            [
                "raise_exception": .function(Function("raise_exception") { _, arguments in
                    let message = try arguments.bind("raise_exception", [("message", nil)])[0]
                    throw Failure(message.stringValue ?? "\(message)", kind: .raised)
                }),
                "strftime_now": .function(Function("strftime_now") { interpreter, arguments in
                    let format = try arguments.bind("strftime_now", [("format", nil)])[0]
                    guard let f = format.stringValue else { throw Failure("strftime_now() argument must be str, not \(format.typeName)") }
                    return .string(try formatTime(f, interpreter.now))
                }),
                "range": .function(Function("range") { interpreter, arguments in try range(interpreter, arguments) }),
                "dict": .function(Function("dict") { interpreter, arguments in
                    .dict(try dictionary("dict", interpreter, arguments))
                }),
                "namespace": .function(Function("namespace") { interpreter, arguments in
                    let namespace = Namespace()
                    namespace.attributes = try dictionary("namespace", interpreter, arguments)
                    for key in namespace.attributes.keys {
                        if let name = key.stringValue { try checkNamespaceAttribute(name) }
                    }
                    interpreter.register(namespace)
                    return .namespace(namespace)
                }),
            ]
        }

        /// transformers refuses underscore-prefixed namespace attributes (a sandbox guard).
        static func checkNamespaceAttribute(_ name: String) throws {
            if name.hasPrefix("_") {
                throw Failure("Chat templates cannot store underscore-prefixed attributes on a namespace, but got '\(name)'. Please rename the attribute.")
            }
        }

        /// Python `dict(mapping_or_pairs, **kwargs)`.
        private static func dictionary(_ name: String, _ interpreter: Interpreter, _ arguments: CallArguments) throws -> Dict {
            guard arguments.positional.count <= 1 else {
                throw Failure("\(name) expected at most 1 argument, got \(arguments.positional.count)")
            }
            var result = Dict()
            if let source = arguments.positional.first {
                switch source {
                case .dict(let d): result = d
                case .namespace(let ns): result = ns.attributes
                default:
                    for pair in try interpreter.iterate(source) {
                        let items = try interpreter.iterate(pair)
                        guard items.count == 2 else {
                            throw Failure("dictionary update sequence element has length \(items.count); 2 is required")
                        }
                        try result.set(items[0], items[1])
                    }
                }
            }
            for (key, value) in arguments.keywords { try result.set(.string(key), value) }
            try interpreter.checkNesting(result.values)
            return result
        }

        /// `range(stop)`, `range(start, stop[, step])`, as a list.
        private static func range(_ interpreter: Interpreter, _ arguments: CallArguments) throws -> Value {
            guard arguments.keywords.isEmpty else { throw Failure("range() takes no keyword arguments") }
            let bounds = try arguments.positional.map { value in
                guard let i = value.integer else { throw Failure("'\(value.typeName)' object cannot be interpreted as an integer") }
                return i
            }
            let (start, stop, step): (Int, Int, Int)
            switch bounds.count {
            case 1: (start, stop, step) = (0, bounds[0], 1)
            case 2: (start, stop, step) = (bounds[0], bounds[1], 1)
            case 3: (start, stop, step) = (bounds[0], bounds[1], bounds[2])
            default: throw Failure("range expected 1 to 3 arguments, got \(bounds.count)")
            }
            guard step != 0 else { throw Failure("range() arg 3 must not be zero") }
            let count = step > 0 ? (stop > start ? (stop - start - 1) / step + 1 : 0)
                                 : (start > stop ? (start - stop - 1) / -step + 1 : 0)
            guard count <= maxRange else {
                throw Failure("Range too big. The sandbox blocks ranges larger than MAX_RANGE (\(maxRange)).")
            }
            try interpreter.tick(count)
            return .list((0..<count).map { .int(start + $0 * step) })
        }

        /// Python's `datetime.now().strftime(format)` for a naive local time: C `strftime`,
        /// with `%f` (microseconds) done here and `%z`/`%Z` empty, as for a naive datetime.
        static func formatTime(_ format: String, _ date: Date) throws -> String {
            let seconds = date.timeIntervalSince1970.rounded(.down)
            var time = time_t(seconds)
            var parts = tm()
            guard localtime_r(&time, &parts) != nil else { throw Failure("cannot convert the time") }
            let microseconds = Int(((date.timeIntervalSince1970 - seconds) * 1_000_000).rounded(.down))
            var prepared = ""
            var chars = format.makeIterator()
            while let c = chars.next() {
                guard c == "%" else {
                    prepared.append(c)
                    continue
                }
                switch chars.next() {
                case "f": prepared += String(format: "%06d", microseconds)
                case "z", "Z": break
                case "%": prepared += "%%"
                case let other?: prepared += "%" + String(other)
                case nil: prepared += "%"
                }
            }
            guard !prepared.isEmpty else { return "" }
            var buffer = [CChar](repeating: 0, count: 256 + prepared.utf8.count * 16)
            let length = strftime(&buffer, buffer.count, prepared, &parts)
            return String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }
}
