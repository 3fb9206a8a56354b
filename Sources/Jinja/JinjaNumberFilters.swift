import Foundation

/// The `int`, `float` and `round` filters' conversions, with Python's parsing and rounding.
extension Jinja.Interpreter {
    /// Jinja2's `int` filter: `int(value)`, else `int(float(value))`, else nil.
    func toInt(_ value: Value, base: Int) -> Value? {
        switch value {
        case .int, .bool: return value.integer.map { .int($0) }
        case .float(let f): return f.isFinite ? Int(exactly: f.rounded(.towardZero)).map { .int($0) } : nil
        case .string(let s), .markup(let s):
            let trimmed = s.pythonStrip().replacingOccurrences(of: "_", with: "")
            var digits = trimmed
            var sign = 1
            if digits.hasPrefix("-") || digits.hasPrefix("+") {
                sign = digits.hasPrefix("-") ? -1 : 1
                digits.removeFirst()
            }
            if base == 16 && digits.lowercased().hasPrefix("0x") { digits.removeFirst(2) }
            if base == 8 && digits.lowercased().hasPrefix("0o") { digits.removeFirst(2) }
            if base == 2 && digits.lowercased().hasPrefix("0b") { digits.removeFirst(2) }
            if !digits.isEmpty, digits.first != "+" && digits.first != "-", let v = Int(digits, radix: base) { return .int(sign * v) }
            return toFloat(value).flatMap { $0.isFinite ? Int(exactly: $0.rounded(.towardZero)).map { .int($0) } : nil }
        default: return nil
        }
    }

    /// Python `float(value)`, or nil where Python raises.
    func toFloat(_ value: Value) -> Double? {
        switch value {
        case .int, .bool, .float: return value.number
        case .string(let s), .markup(let s):
            let t = s.pythonStrip().lowercased()
            switch t {
            case "inf", "+inf", "infinity", "+infinity": return .infinity
            case "-inf", "-infinity": return -.infinity
            case "nan", "+nan", "-nan": return .nan
            default:
                guard !t.isEmpty, t.allSatisfy({ "0123456789.e+-_".contains($0) }) else { return nil }
                return Double(t.replacingOccurrences(of: "_", with: ""))
            }
        default: return nil
        }
    }

    /// Python's `round` (half to even, on the exact binary value) and Jinja2's floor/ceil.
    func round(_ value: Value, precision: Value, method: Value) throws -> Value {
        guard let digits = precision.integer else { throw Failure("precision must be an integer") }
        guard let how = method.stringValue, ["common", "ceil", "floor"].contains(how) else {
            throw Failure("method must be common, ceil or floor")
        }
        guard let x = value.number else { throw Failure("type \(value.typeName) doesn't define __round__ method") }
        if how != "common" {
            let scale = Foundation.pow(10, Double(digits))
            return .float((how == "floor" ? floor(x * scale) : ceil(x * scale)) / scale)
        }
        if let i = value.integer {
            guard digits < 0 else { return .int(i) }
            let scale = Int(Foundation.pow(10, Double(-digits)))
            return .int(Int((Double(i) / Double(scale)).rounded(.toNearestOrEven)) * scale)
        }
        guard x.isFinite else { return .float(x) }
        if digits >= 0 {
            // printf rounds the exact binary value half to even, as Python's round does.
            return .float(Double(String(format: "%.\(min(digits, 300))f", x)) ?? x)
        }
        let scale = Foundation.pow(10, Double(-digits))
        return .float((x / scale).rounded(.toNearestOrEven) * scale)
    }
}
