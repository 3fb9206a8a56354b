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
