import InferKit

/// The members of a request's JSON object, read with OpenAI's checks: each getter throws an
/// `APIError` naming the field when its type or value is wrong. A member that is absent or
/// null reads as nil (the clients send null for "not set").
struct RequestFields {
    let object: JSONObject

    /// Parses a request body, which must be a JSON object.
    init(body: [UInt8]) throws(APIError) {
        let json: JSONValue
        do {
            json = try JSONValue(parsing: body)
        } catch {
            throw .invalidRequest("The request body is not valid JSON: \(error).", code: "invalid_json")
        }
        guard let object = json.object else {
            throw .invalidRequest("The request body must be a JSON object.", code: "invalid_json")
        }
        self.object = object
    }

    /// The member `name`, nil when absent or null.
    subscript(name: String) -> JSONValue? {
        guard let value = object[name], value != .null else { return nil }
        return value
    }

    func string(_ name: String) throws(APIError) -> String? {
        guard let value = self[name] else { return nil }
        guard let string = value.string else { throw .invalidType(name, expected: "a string") }
        return string
    }

    func bool(_ name: String) throws(APIError) -> Bool? {
        guard let value = self[name] else { return nil }
        guard let bool = value.bool else { throw .invalidType(name, expected: "a boolean") }
        return bool
    }

    /// A number within `range`.
    func number(_ name: String, in range: ClosedRange<Double>) throws(APIError) -> Double? {
        let number: Double
        switch self[name] {
        case nil: return nil
        case .int(let value)?: number = Double(value)
        case .double(let value)?: number = value
        default: throw .invalidType(name, expected: "a number")
        }
        guard range.contains(number) else {
            throw .invalidValue(name, "\(number) is not between \(range.lowerBound) and \(range.upperBound)")
        }
        return number
    }

    /// An integer of at least `minimum`.
    func integer(_ name: String, minimum: Int = .min) throws(APIError) -> Int? {
        guard let value = self[name] else { return nil }
        guard let integer = value.int else { throw .invalidType(name, expected: "an integer") }
        guard integer >= minimum else { throw .invalidValue(name, "\(integer) is less than \(minimum)") }
        return integer
    }

    func object(_ name: String) throws(APIError) -> JSONObject? {
        guard let value = self[name] else { return nil }
        guard let object = value.object else { throw .invalidType(name, expected: "an object") }
        return object
    }

    /// Refuses the request when it sets a member the endpoint does not implement (one not in
    /// `supported`), or one of `defaultsOnly` to anything but its default: infer never
    /// ignores what it cannot honour.
    func rejectUnsupported(_ supported: Set<String>, defaultsOnly: [String: [JSONValue]] = [:]) throws(APIError) {
        for (name, value) in object.members where value != .null && !supported.contains(name) {
            if let defaults = defaultsOnly[name] {
                if defaults.contains(value) { continue }
                throw .invalidRequest("Unsupported value for '\(name)': this server supports only \(defaults.map(\.jsonText).joined(separator: " or ")).",
                                      param: name, code: "unsupported_value")
            }
            throw .invalidRequest("Unsupported parameter: '\(name)' is not supported by this server.", param: name,
                                  code: "unsupported_parameter")
        }
    }

    /// `logit_bias`: token ids (as strings) to numbers from -100 to 100.
    func logitBias(_ name: String, vocabularySize: Int) throws(APIError) -> [Int: Float] {
        guard let object = try object(name) else { return [:] }
        var bias: [Int: Float] = [:]
        for (key, value) in object {
            guard let id = Int(key) else { throw .invalidValue(name, "the key \(key.debugDescription) is not a token id") }
            guard (0..<vocabularySize).contains(id) else {
                throw .invalidValue(name, "token id \(id) is outside the vocabulary (0..<\(vocabularySize))")
            }
            let amount: Double
            switch value {
            case .int(let i): amount = Double(i)
            case .double(let d): amount = d
            default: throw .invalidType("\(name).\(key)", expected: "a number")
            }
            guard (-100...100).contains(amount) else { throw .invalidValue(name, "the bias of token \(id) must be between -100 and 100") }
            bias[id] = Float(amount)
        }
        return bias
    }

    /// `stop`: a string or an array of strings.
    func stopStrings(_ name: String) throws(APIError) -> [String] {
        switch self[name] {
        case nil: return []
        case .string(let stop)?: return [stop]
        case .array(let items)?:
            var stops: [String] = []
            for item in items {
                guard let stop = item.string else { throw .invalidType(name, expected: "a string or an array of strings") }
                stops.append(stop)
            }
            return stops
        default: throw .invalidType(name, expected: "a string or an array of strings")
        }
    }
}
