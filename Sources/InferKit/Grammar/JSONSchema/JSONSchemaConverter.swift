/// JSON Schema → GBNF: a grammar whose every sentence is a JSON document the schema
/// accepts. It covers what llama.cpp's `json_schema_to_grammar` covers: `type` (one or a
/// list), `properties`, `required`, `additionalProperties`, `enum`, `const`, `items`,
/// `prefixItems`, `minItems`/`maxItems`, `anyOf`, `oneOf` (when its alternatives cannot
/// overlap), `allOf` (merged), local `$ref` into `$defs`/`definitions` (recursion included),
/// `minLength`/`maxLength`, `pattern`, the formats `date`, `time`, `date-time`, `uuid`,
/// `email`, `ipv4`, and `minimum`/`maximum` (exclusive too) on integers and numbers.
///
/// A keyword it cannot honour is an error naming it, never ignored; annotations (`title`,
/// `description`, `default`, `examples`...) and `x-` extensions are ignored, as validators
/// ignore them. Like llama.cpp, an object with `properties` gets no other members unless
/// `additionalProperties` allows them (any object the grammar makes is then still valid).
/// Where the schema allows more than the grammar makes (numbers are written without
/// exponents when bounded, open bounds stop at 16 digits), every sentence is still valid.
struct JSONSchemaConverter {
    /// The schema being converted (where its `$ref`s point).
    private var root: JSONValue
    private var rootIndex = 0
    private var rules: [(name: String, body: String)] = []
    private var ruleNames: Set<String> = []
    /// The next number to try for names made from each base.
    private var nextSuffix: [String: Int] = [:]
    private var primitives: Set<String> = []
    /// Rule names of the `$ref`s visited (set before their target is, for recursion).
    private var refRules: [String: String] = [:]

    static let annotations: Set<String> = [
        "title", "description", "default", "examples", "$schema", "$id", "$comment", "deprecated",
        "readOnly", "writeOnly", "contentMediaType", "contentEncoding", "contentSchema", "discriminator",
        "$defs", "definitions",
    ]
    static let keywords: Set<String> = [
        "type", "properties", "required", "additionalProperties", "items", "prefixItems", "additionalItems",
        "minItems", "maxItems", "uniqueItems", "enum", "const", "anyOf", "oneOf", "allOf", "$ref", "minLength",
        "maxLength", "pattern", "format", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
    ]

    /// The GBNF grammar for `schema`.
    static func grammar(for schema: JSONValue) throws(GrammarError) -> String {
        var converter = JSONSchemaConverter(root: schema)
        let body = try converter.expression(schema, name: "root", path: "#")
        converter.define("root", body)
        for name in JSONGrammarRules.closure(of: Array(converter.primitives)) {
            converter.rules.append((name, JSONGrammarRules.bodies[name]!))
        }
        return converter.rules.map { "\($0.name) ::= \($0.body)\n" }.joined()
    }

    /// Rules for several schemas in one grammar (each its own `$ref` root): the names of
    /// their rules (made from `names`) and the rules' text, without a root rule.
    static func rules(for schemas: [(name: String, schema: JSONValue)]) throws(GrammarError) -> (names: [String], text: String) {
        var converter = JSONSchemaConverter(root: .null)
        var names: [String] = []
        for (index, (base, schema)) in schemas.enumerated() {
            converter.root = schema
            converter.rootIndex = index
            let name = converter.reserveName(base)
            let body = try converter.expression(schema, name: name, path: "#")
            converter.define(name, body)
            names.append(name)
        }
        for name in JSONGrammarRules.closure(of: Array(converter.primitives)) {
            converter.rules.append((name, JSONGrammarRules.bodies[name]!))
        }
        return (names, converter.rules.map { "\($0.name) ::= \($0.body)\n" }.joined())
    }

    /// The error for a converted grammar that does not compile: its rules are the converter's,
    /// so a left-recursive one is the schema's `$ref` cycle, told in the schema's terms.
    static func compileError(_ error: GrammarError) -> GrammarError {
        guard error.isLeftRecursion else { return error }
        return GrammarError("JSON Schema: a $ref comes back to itself before any value is written, so no JSON value can match it")
    }

    private init(root: JSONValue) {
        self.root = root
        ruleNames = Set(JSONGrammarRules.bodies.keys).union(["root"])
    }

    // MARK: Rules

    private mutating func primitive(_ name: String) -> String {
        primitives.insert(name)
        return name
    }

    /// A fresh rule name from `base` (only letters, digits and dashes).
    private mutating func reserveName(_ base: String) -> String {
        var clean = String(base.unicodeScalars.map { ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) ? Character($0) : "-" })
        while clean.contains("--") { clean = clean.replacingOccurrences(of: "--", with: "-") }
        clean = String(clean.drop { $0 == "-" })
        if clean.isEmpty { clean = "item" }
        // Numbered from where the last name made from the same base stopped: counting from 1
        // each time would make many rules of one base cost their square.
        var name = clean, counter = nextSuffix[clean] ?? 1
        if counter > 1 { name = "\(clean)\(counter)" }
        while ruleNames.contains(name) {
            counter += 1
            name = "\(clean)\(counter)"
        }
        nextSuffix[clean] = counter + 1
        ruleNames.insert(name)
        return name
    }

    private mutating func define(_ name: String, _ body: String) {
        rules.append((name, body))
    }

    /// A rule for `body`, named from `base`.
    private mutating func rule(_ base: String, _ body: String) -> String {
        let name = reserveName(base)
        define(name, body)
        return name
    }

    // MARK: Schemas

    private func fail(_ message: String, _ path: String) -> GrammarError {
        GrammarError("JSON Schema at \(path): \(message)")
    }

    /// A GBNF expression for the values `schema` accepts. `name` seeds the names of the rules
    /// it adds; `path` (a JSON pointer) locates errors.
    private mutating func expression(_ schema: JSONValue, name: String, path: String) throws(GrammarError) -> String {
        if schema == .bool(true) { return primitive("value") }
        if schema == .bool(false) { throw fail("the schema false accepts nothing", path) }
        guard let object = schema.object else { throw fail("a schema must be an object or a boolean", path) }
        for key in object.keys where !Self.keywords.contains(key) && !Self.annotations.contains(key) && !key.hasPrefix("x-") {
            throw fail("the keyword '\(key)' is not supported", path)
        }
        if object["$ref"] != nil {
            let siblings = object.filter { Self.keywords.contains($0.key) && $0.key != "$ref" }
            if !siblings.isEmpty {
                return try expression(.object(JSONObject([("allOf", .array([.object(JSONObject([("$ref", object["$ref"]!)])),
                                                                           .object(JSONObject(siblings.map { ($0.key, $0.value) }))]))])),
                                      name: name, path: path)
            }
            return try reference(object["$ref"]!, path: path)
        }
        if let parts = object["allOf"] {
            guard let parts = parts.array, !parts.isEmpty else { throw fail("allOf must be a non-empty array", path) }
            var merged = JSONObject(object.filter { $0.key != "allOf" }.map { ($0.key, $0.value) })
            for (index, part) in parts.enumerated() {
                merged = try merge(merged, dereferenced(part, path: "\(path)/allOf/\(index)"), path: "\(path)/allOf/\(index)")
            }
            return try expression(.object(merged), name: name, path: path)
        }
        for key in ["anyOf", "oneOf"] where object[key] != nil {
            return try alternatives(object, key: key, name: name, path: path)
        }
        if let value = object["const"] {
            guard Self.matchesType(value, object["type"]) else { throw fail("const does not have the schema's type", path) }
            return GBNFText.literal(value.jsonText)
        }
        if let values = object["enum"] {
            guard let values = values.array else { throw fail("enum must be an array", path) }
            let kept = values.filter { Self.matchesType($0, object["type"]) }
            guard !kept.isEmpty else { throw fail("no enum value has the schema's type", path) }
            return "(" + kept.map { GBNFText.literal($0.jsonText) }.joined(separator: " | ") + ")"
        }
        switch object["type"] {
        case .array(let types)?:
            guard !types.isEmpty else { throw fail("type must not be an empty array", path) }
            var options: [String] = []
            for (index, type) in types.enumerated() {
                var single = object
                single["type"] = type
                options.append(try expression(.object(single), name: "\(name)-\(index)", path: path))
            }
            return "(" + options.joined(separator: " | ") + ")"
        case .string(let type)?:
            return try typed(type, object, name: name, path: path)
        case nil:
            return try typed(Self.impliedType(object), object, name: name, path: path)
        default:
            throw fail("type must be a string or an array of strings", path)
        }
    }

    /// The type the other keywords imply when `type` is absent ("any" when none does).
    private static func impliedType(_ object: JSONObject) -> String {
        let keys = Set(object.keys)
        if !keys.isDisjoint(with: ["properties", "additionalProperties", "required"]) { return "object" }
        if !keys.isDisjoint(with: ["items", "prefixItems", "minItems", "maxItems", "additionalItems", "uniqueItems"]) { return "array" }
        if !keys.isDisjoint(with: ["pattern", "format", "minLength", "maxLength"]) { return "string" }
        if !keys.isDisjoint(with: ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"]) { return "number" }
        return "any"
    }

    private mutating func typed(_ type: String, _ object: JSONObject, name: String, path: String) throws(GrammarError) -> String {
        switch type {
        case "object": return try self.object(object, name: name, path: path)
        case "array": return try array(object, name: name, path: path)
        case "string": return try string(object, name: name, path: path)
        case "integer": return try number(object, integer: true, path: path)
        case "number": return try number(object, integer: false, path: path)
        case "boolean": return primitive("boolean")
        case "null": return primitive("null")
        case "any": return primitive("value")
        default: throw fail("unknown type '\(type)'", path)
        }
    }

    // MARK: References and combinations

    private mutating func reference(_ value: JSONValue, path: String) throws(GrammarError) -> String {
        guard let ref = value.string else { throw fail("$ref must be a string", path) }
        let key = "\(rootIndex)\(ref)"
        if let name = refRules[key] { return name }
        let target = try resolve(ref, path: path)
        let name = reserveName(ref.split(separator: "/").last.map(String.init) ?? "ref")
        refRules[key] = name
        let body = try expression(target, name: name, path: String(ref))
        define(name, body)
        return name
    }

    /// The schema a local `$ref` points to.
    private func resolve(_ ref: String, path: String) throws(GrammarError) -> JSONValue {
        guard ref.hasPrefix("#") else { throw fail("only local references ('#/...') are supported, not '\(ref)'", path) }
        var node = root
        let pointer = ref.dropFirst()
        guard pointer.isEmpty || pointer.hasPrefix("/") else { throw fail("anchors ('\(ref)') are not supported", path) }
        for raw in pointer.split(separator: "/", omittingEmptySubsequences: false).dropFirst() {
            let token = (String(raw).removingPercentEncoding ?? String(raw))
                .replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            if let object = node.object, let next = object[token] {
                node = next
            } else if let array = node.array, let index = Int(token), array.indices.contains(index) {
                node = array[index]
            } else {
                throw fail("$ref '\(ref)' points to nothing", path)
            }
        }
        return node
    }

    /// A schema with its top-level `$ref` replaced by the schema it names (for merging).
    private func dereferenced(_ schema: JSONValue, path: String) throws(GrammarError) -> JSONObject {
        if schema == .bool(true) { return JSONObject() }
        guard var object = schema.object else { throw fail("a schema to merge must be an object", path) }
        var seen: Set<String> = []
        while let ref = object["$ref"]?.string {
            guard seen.insert(ref).inserted else { throw fail("$ref '\(ref)' refers to itself", path) }
            object["$ref"] = nil
            let target = try resolve(ref, path: path)
            guard let targetObject = target.object else { throw fail("$ref '\(ref)' is not a schema object", path) }
            object = try merge(object, targetObject, path: path)
        }
        return object
    }

    /// Both schemas at once (allOf): properties and required combined, bounds tightened,
    /// types and enums intersected. Other keywords set differently in both are an error.
    private func merge(_ a: JSONObject, _ b: JSONObject, path: String) throws(GrammarError) -> JSONObject {
        var merged = a
        for (key, value) in b {
            guard let existing = merged[key], existing != value else {
                merged[key] = value
                continue
            }
            switch key {
            case "properties":
                guard var properties = existing.object, let more = value.object else { throw fail("properties must be an object", path) }
                for (property, schema) in more {
                    if let other = properties[property], other != schema {
                        properties[property] = .object(JSONObject([("allOf", .array([other, schema]))]))
                    } else {
                        properties[property] = schema
                    }
                }
                merged[key] = .object(properties)
            case "required":
                let names = (existing.array ?? []) + (value.array ?? []).filter { !(existing.array ?? []).contains($0) }
                merged[key] = .array(names)
            case "type":
                let x = Self.typeNames(existing), y = Self.typeNames(value)
                var both = x.filter { y.contains($0) || ($0 == "integer" && y.contains("number")) }
                both += y.filter { $0 == "integer" && x.contains("number") && !both.contains($0) }
                guard !both.isEmpty else { throw fail("allOf: the types \(x) and \(y) have nothing in common", path) }
                merged[key] = both.count == 1 ? .string(both[0]) : .array(both.map { .string($0) })
            case "enum":
                let kept = (existing.array ?? []).filter { (value.array ?? []).contains($0) }
                guard !kept.isEmpty else { throw fail("allOf: the enums have no value in common", path) }
                merged[key] = .array(kept)
            case "minimum", "exclusiveMinimum", "minLength", "minItems":
                merged[key] = Self.number(existing).flatMap { x in Self.number(value).map { .double(max(x, $0)) } } ?? value
            case "maximum", "exclusiveMaximum", "maxLength", "maxItems":
                merged[key] = Self.number(existing).flatMap { x in Self.number(value).map { .double(min(x, $0)) } } ?? value
            case "allOf":
                merged[key] = .array((existing.array ?? []) + (value.array ?? []))
            case _ where Self.annotations.contains(key) || key.hasPrefix("x-"):
                break
            default:
                throw fail("allOf: the keyword '\(key)' is set differently in two parts", path)
            }
        }
        return merged
    }

    private static func typeNames(_ value: JSONValue) -> [String] {
        if let name = value.string { return [name] }
        return value.array?.compactMap(\.string) ?? []
    }

    private static func number(_ value: JSONValue) -> Double? {
        switch value {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }

    /// anyOf / oneOf: one alternative per schema, each combined with the keywords beside
    /// the list. oneOf must have alternatives no value can match twice.
    private mutating func alternatives(_ object: JSONObject, key: String, name: String, path: String) throws(GrammarError) -> String {
        guard let options = object[key]?.array, !options.isEmpty else { throw fail("\(key) must be a non-empty array", path) }
        let siblings = JSONObject(object.filter { Self.keywords.contains($0.key) && $0.key != key }.map { ($0.key, $0.value) })
        var schemas: [JSONValue] = []
        for (index, option) in options.enumerated() {
            let optionPath = "\(path)/\(key)/\(index)"
            schemas.append(siblings.isEmpty ? option : .object(try merge(siblings, dereferenced(option, path: optionPath), path: optionPath)))
        }
        if key == "oneOf" {
            for i in schemas.indices {
                for j in schemas.indices where j > i {
                    if try disjoint(schemas[i], schemas[j]) { continue }
                    throw fail("oneOf alternatives \(i) and \(j) may both match a value, which oneOf forbids; use anyOf if either may match", path)
                }
            }
        }
        var expressions: [String] = []
        for (index, schema) in schemas.enumerated() {
            expressions.append(try expression(schema, name: "\(name)-\(index)", path: "\(path)/\(key)/\(index)"))
        }
        return "(" + expressions.joined(separator: " | ") + ")"
    }

    /// Whether no value can match both schemas: their types differ, their constants differ,
    /// or as objects they require a property with different constants (a discriminator).
    private func disjoint(_ a: JSONValue, _ b: JSONValue) throws(GrammarError) -> Bool {
        let x = try dereferenced(a, path: "#"), y = try dereferenced(b, path: "#")
        let xs = Self.kinds(x), ys = Self.kinds(y)
        if xs.isDisjoint(with: ys) { return true }
        if let cx = Self.constants(x), let cy = Self.constants(y), cx.allSatisfy({ !cy.contains($0) }) { return true }
        guard xs == ["object"], ys == ["object"], let px = x["properties"]?.object, let py = y["properties"]?.object else { return false }
        let requiredX = Set(x["required"]?.array?.compactMap(\.string) ?? []), requiredY = Set(y["required"]?.array?.compactMap(\.string) ?? [])
        for property in requiredX.intersection(requiredY) {
            guard let sx = px[property], let sy = py[property] else { continue }
            let dx = try dereferenced(sx, path: "#"), dy = try dereferenced(sy, path: "#")
            if let cx = Self.constants(dx), let cy = Self.constants(dy), cx.allSatisfy({ !cy.contains($0) }) { return true }
        }
        return false
    }

    /// The JSON kinds a schema's values can have ("number" includes integers).
    private static func kinds(_ schema: JSONObject) -> Set<String> {
        if let values = constants(schema) { return Set(values.map(kind)) }
        var names = typeNames(schema["type"] ?? .null)
        if names.isEmpty && schema["type"] == nil {
            let implied = impliedType(schema)
            names = implied == "any" ? ["object", "array", "string", "number", "boolean", "null"] : [implied]
        }
        return Set(names.map { $0 == "integer" ? "number" : $0 })
    }

    private static func constants(_ schema: JSONObject) -> [JSONValue]? {
        if let value = schema["const"] { return [value] }
        return schema["enum"]?.array
    }

    private static func kind(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool: return "boolean"
        case .int, .double: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    /// Whether `value` has the type `type` names (any type when absent).
    private static func matchesType(_ value: JSONValue, _ type: JSONValue?) -> Bool {
        guard let type else { return true }
        return typeNames(type).contains { name in
            switch (name, value) {
            case ("null", .null), ("boolean", .bool), ("string", .string), ("array", .array), ("object", .object): return true
            case ("number", .int), ("number", .double), ("integer", .int): return true
            case ("integer", .double(let d)): return d.rounded() == d
            default: return false
            }
        }
    }

    // MARK: Types

    private mutating func object(_ object: JSONObject, name: String, path: String) throws(GrammarError) -> String {
        let properties = object["properties"]?.object ?? JSONObject()
        if object["properties"] != nil && object["properties"]?.object == nil { throw fail("properties must be an object", path) }
        let required = object["required"]?.array?.compactMap(\.string) ?? []
        if object["required"] != nil && object["required"]?.array?.count != required.count {
            throw fail("required must be an array of strings", path)
        }
        // Extra members: none when properties are listed (llama.cpp's default), any otherwise.
        var additional: JSONValue? = object["properties"] == nil ? .bool(true) : nil
        if let value = object["additionalProperties"] { additional = value == .bool(false) ? Optional.none : Optional(value) }
        if properties.isEmpty && required.isEmpty && (additional == .bool(true) || additional == .object(JSONObject())) {
            return primitive("object")
        }
        var members: [(name: String, schema: JSONValue)] = properties.map { ($0.key, $0.value) }
        for property in required where properties[property] == nil {
            guard let additional else { throw fail("required property '\(property)' is not in properties", path) }
            members.append((property, additional))
        }
        let space = primitive("space")
        var kv: [String: String] = [:]
        var requiredNames: [String] = [], optionalNames: [String] = []
        let requiredSet = Set(required)
        for (property, schema) in members {
            let value = try expression(schema, name: "\(name)-\(property)", path: "\(path)/properties/\(property)")
            kv[property] = rule("\(name)-\(property)-kv", "\(GBNFText.literal(JSONValue.string(property).jsonText)) \" \"? \":\" \(space) \(value)")
            if requiredSet.contains(property) { requiredNames.append(property) } else { optionalNames.append(property) }
        }
        var extra: String?
        if let additional {
            let value = try expression(additional, name: "\(name)-additional", path: "\(path)/additionalProperties")
            let key = rule("\(name)-additional-key", try notStrings(members.map(\.name), name: "\(name)-additional-key", path: path))
            extra = rule("\(name)-additional-kv", "\(key) \" \"? \":\" \(space) \(value)")
        }
        var body = "\"{\" \(space) " + requiredNames.map { kv[$0]! }.joined(separator: " \",\" \(space) ")
        // Optional members keep their order; any of them may be left out.
        let optional = optionalNames.map { kv[$0]! } + (extra.map { [$0] } ?? [])
        if !optional.isEmpty {
            var rest: [String?] = Array(repeating: nil, count: optional.count + 1)
            for index in stride(from: optional.count - 1, through: 1, by: -1) {
                let repeats = extra != nil && index == optional.count - 1 ? "*" : "?"
                let tail = rest[index + 1].map { " " + $0 } ?? ""
                rest[index] = rule("\(name)-rest", "( \",\" \(space) \(optional[index]) )\(repeats)\(tail)")
            }
            let firsts = optional.indices.map { index -> String in
                let repeats = extra != nil && index == optional.count - 1 ? " ( \",\" \(space) \(optional[index]) )*" : ""
                return optional[index] + repeats + (rest[index + 1].map { " " + $0 } ?? "")
            }
            let choice = "( " + firsts.joined(separator: " | ") + " )"
            body += requiredNames.isEmpty ? " \(choice)?" : " ( \",\" \(space) \(choice) )?"
        }
        return body + " \(space) \"}\""
    }

    /// A JSON string (without escapes, so that it is exactly its text) other than `names`:
    /// a walk down the trie of the names, leaving it at any character. Each trie node that
    /// continues is a rule of its own, made without recursion: a name may be as long as the
    /// request, and a grammar nested as deep would exhaust the stack. Each is a rule, so the
    /// names may have at most `maxExcludedNameLength` characters in all.
    private mutating func notStrings(_ names: [String], name: String, path: String) throws(GrammarError) -> String {
        let plain = #"[^"\\\x00-\x1F\x7F]"#
        guard !names.isEmpty else { return "\"\\\"\" \(plain)* \"\\\"\"" }
        // The trie: each node's children (scalar, node), and whether a name ends at it.
        var children: [[(scalar: UInt32, node: Int)]] = [[]]
        var isName = [false]
        var child: [UInt64: Int] = [:]  // node << 21 | scalar
        for name in names {
            var node = 0
            for scalar in name.unicodeScalars {
                let key = UInt64(node) << 21 | UInt64(scalar.value)
                if let next = child[key] {
                    node = next
                } else {
                    children.append([])
                    isName.append(false)
                    children[node].append((scalar.value, children.count - 1))
                    node = children.count - 1
                    child[key] = node
                }
            }
            isName[node] = true
            guard children.count <= Self.maxExcludedNameLength + 1 else {
                throw fail("properties beside additionalProperties with names of more than \(Self.maxExcludedNameLength) characters in all are not supported", path)
            }
        }
        // The suffixes after a node's prefix that do not complete a name.
        var ruleOf = [String?](repeating: nil, count: children.count)
        ruleOf[0] = reserveName(name)
        var pending = [0]
        while let node = pending.popLast() {
            var options: [String] = []
            for (scalar, next) in children[node] {
                let here = JSONStringGrammar.encoded(scalar)
                if children[next].isEmpty {
                    options.append("\(here) \(plain)+")
                } else {
                    let rule = reserveName(name)
                    ruleOf[next] = rule
                    pending.append(next)
                    options.append("\(here) \(rule)")
                }
            }
            let used = children[node].map { $0.scalar...$0.scalar } + [0x00...0x1F, 0x22...0x22, 0x5C...0x5C, 0x7F...0x7F]
            options.append("\(GBNFText.characterClass(UTF8Sequences.normalized(used), negated: true)) \(plain)*")
            if !isName[node] { options.append("\"\"") }
            define(ruleOf[node]!, options.joined(separator: " | "))
        }
        return "\"\\\"\" \(ruleOf[0]!) \"\\\"\""
    }

    private mutating func array(_ object: JSONObject, name: String, path: String) throws(GrammarError) -> String {
        let space = primitive("space")
        var prefix: [JSONValue] = object["prefixItems"]?.array ?? []
        var rest: JSONValue? = .bool(true)
        switch object["items"] {
        case .array(let tuple)?:  // draft 2019 and before: items as a tuple, additionalItems for the rest
            prefix = tuple
            rest = object["additionalItems"] ?? .bool(true)
        case let schema?:
            rest = schema
        case nil:
            break
        }
        if rest == .bool(false) { rest = nil }
        if object["uniqueItems"] == .bool(true) && (Self.number(object["maxItems"] ?? .null) ?? 2) > 1 {
            throw fail("the keyword 'uniqueItems' is not supported", path)
        }
        let minItems = try count(object["minItems"], "minItems", path) ?? 0
        let maxItems = try count(object["maxItems"], "maxItems", path)
        if let maxItems, maxItems < minItems { throw fail("maxItems is below minItems", path) }
        if rest == .bool(true) && prefix.isEmpty && minItems == 0 && maxItems == nil { return primitive("array") }
        let prefixCount = min(prefix.count, maxItems ?? prefix.count)
        var items: [String] = []
        for (index, schema) in prefix.prefix(prefixCount).enumerated() {
            items.append(try expression(schema, name: "\(name)-\(index)", path: "\(path)/prefixItems/\(index)"))
        }
        let restMin = max(0, minItems - prefixCount), restMax = maxItems.map { $0 - prefixCount }
        var body = items.joined(separator: " \",\" \(space) ")
        if let rest, restMax != 0 {
            let item = try expression(rest, name: "\(name)-item", path: "\(path)/items")
            let itemRule = rule("\(name)-item", item)
            if prefixCount > 0 {
                body += " " + Self.repeated("( \",\" \(space) \(itemRule) )", min: restMin, max: restMax)
            } else {
                body = Self.separated(itemRule, separator: "\",\" \(space)", min: restMin, max: restMax)
            }
        } else if restMin > 0 {
            throw fail("minItems asks for more items than the schema allows", path)
        }
        return "\"[\" \(space) \(body) \(space) \"]\""
    }

    /// Counts of items and characters above this are refused: a count is written out as that
    /// many copies in the grammar (a chunk of `GBNFParser.maxRepetitions` at a time), so a
    /// larger one would cost memory and time in proportion before any text is generated.
    static let maxCount = 100_000

    /// Characters the names of an object's properties may have in all when other members are
    /// allowed beside them: "any other name" costs a rule per character of the names.
    static let maxExcludedNameLength = 2048

    private func count(_ value: JSONValue?, _ key: String, _ path: String) throws(GrammarError) -> Int? {
        guard let value else { return nil }
        guard let count = value.int, count >= 0 else { throw fail("\(key) must be a non-negative integer", path) }
        guard count <= Self.maxCount else { throw fail("\(key) above \(Self.maxCount) is not supported", path) }
        return count
    }

    /// `item` between `min` and `max` times (nil: no limit), in counts GBNF accepts. Above
    /// its limit, the optional copies nest (`x{0,1999} | x{2000} x{0,...}`), so that a count
    /// of items has one parse, not one per way of splitting it.
    static func repeated(_ item: String, min: Int, max: Int?) -> String {
        let limit = GBNFParser.maxRepetitions
        var parts: [String] = []
        var required = min
        while required > 0 {
            let chunk = Swift.min(required, limit)
            parts.append(chunk == 1 ? item : "\(item){\(chunk)}")
            required -= chunk
        }
        if let max {
            if max > min { parts.append(optionalCopies(item, max - min)) }
        } else {
            parts.append("\(item)*")
        }
        return parts.isEmpty ? "\"\"" : parts.joined(separator: " ")
    }

    private static func optionalCopies(_ item: String, _ count: Int) -> String {
        let limit = GBNFParser.maxRepetitions
        if count == 1 { return "\(item)?" }
        if count <= limit { return "\(item){0,\(count)}" }
        return "( \(item){0,\(limit - 1)} | \(item){\(limit)} \(optionalCopies(item, count - limit)) )"
    }

    /// `item` between `min` and `max` times with `separator` between them.
    static func separated(_ item: String, separator: String, min: Int, max: Int?) -> String {
        if max == 0 { return "\"\"" }
        let tail = repeated("( \(separator) \(item) )", min: Swift.max(min - 1, 0), max: max.map { $0 - 1 })
        let body = "\(item) \(tail)"
        return min == 0 ? "( \(body) )?" : body
    }

    private mutating func string(_ object: JSONObject, name: String, path: String) throws(GrammarError) -> String {
        let minLength = try count(object["minLength"], "minLength", path) ?? 0
        let maxLength = try count(object["maxLength"], "maxLength", path)
        if let maxLength, maxLength < minLength { throw fail("maxLength is below minLength", path) }
        let bounded = minLength > 0 || maxLength != nil
        if let pattern = object["pattern"] {
            guard let text = pattern.string else { throw fail("pattern must be a string", path) }
            if bounded || object["format"] != nil {
                throw fail("pattern together with \(bounded ? "minLength or maxLength" : "format") is not supported", path)
            }
            let (expression, setRules) = try PatternGrammar.convert(text, ruleBase: reserveName("\(name)-pattern"))
            for (rule, body) in setRules {
                ruleNames.insert(rule)
                define(rule, body)
            }
            return "\"\\\"\" (\(expression)) \"\\\"\""
        }
        if let format = object["format"] {
            guard let format = format.string else { throw fail("format must be a string", path) }
            guard JSONGrammarRules.formats.contains(format) else {
                throw fail("the format '\(format)' is not supported (supported: \(JSONGrammarRules.formats.sorted().joined(separator: ", ")))", path)
            }
            if bounded { throw fail("format together with minLength or maxLength is not supported", path) }
            return "\"\\\"\" \(primitive(format)) \"\\\"\""
        }
        guard bounded else { return primitive("string") }
        return "\"\\\"\" \(Self.repeated(primitive("char"), min: minLength, max: maxLength)) \"\\\"\""
    }

    private mutating func number(_ object: JSONObject, integer: Bool, path: String) throws(GrammarError) -> String {
        func bound(_ key: String) throws(GrammarError) -> Double? {
            guard let value = object[key] else { return nil }
            guard let number = Self.number(value), number.isFinite else { throw fail("\(key) must be a number", path) }
            return number
        }
        // The least and greatest whole numbers allowed.
        let minimum = try bound("minimum"), exclusiveMinimum = try bound("exclusiveMinimum")
        let maximum = try bound("maximum"), exclusiveMaximum = try bound("exclusiveMaximum")
        var low: Double? = minimum.map { $0.rounded(.up) }
        if let e = exclusiveMinimum { low = max(low ?? -.infinity, e.rounded(.down) + 1) }
        var high: Double? = maximum.map { $0.rounded(.down) }
        if let e = exclusiveMaximum { high = min(high ?? .infinity, e.rounded(.up) - 1) }
        guard low != nil || high != nil else { return primitive(integer ? "integer" : "number") }
        let limit = Double(IntegerRangeGrammar.limit)
        if let low, low > limit { throw fail("a minimum above \(IntegerRangeGrammar.limit) is not supported", path) }
        if let high, high < -limit { throw fail("a maximum below -\(IntegerRangeGrammar.limit) is not supported", path) }
        func clamped(_ value: Double) -> Int64 { Int64(min(max(value, -limit), limit)) }
        let whole = IntegerRangeGrammar.expression(min: low.map(clamped), max: high.map(clamped))
        if integer {
            guard let whole else { throw fail("no integer lies between minimum and maximum", path) }
            return "(\(whole))"
        }
        // Fractions: k.ddd lies in [k, k+1), so it is inside when k is at least the least
        // whole number and k + 1 at most the upper bound; -k.ddd lies in (-(k+1), -k]. Next to
        // an exclusive whole bound, a fraction with a non-zero digit: (0, 1) is 0.ddd.
        var options = whole.map { [$0] } ?? []
        let fraction = "\".\" \(primitive("decimal-part"))", nonZeroFraction = #""." [0-9]{0,15} [1-9]"#
        let upperBound = [maximum, exclusiveMaximum].compactMap { $0 }.min()
        let lowerBound = [minimum, exclusiveMinimum].compactMap { $0 }.max()
        let upper = upperBound.map { clamped($0.rounded(.down)) - 1 } ?? IntegerRangeGrammar.limit
        if upper >= 0, let positive = IntegerRangeGrammar.expression(min: max(low.map(clamped) ?? 0, 0), max: upper) {
            options.append("(\(positive)) \(fraction)")
        }
        let lower = lowerBound.map { -clamped($0.rounded(.up)) - 1 } ?? IntegerRangeGrammar.limit
        if lower >= 0, let negative = IntegerRangeGrammar.expression(min: max(0, high.map { -clamped($0) } ?? 0), max: lower) {
            options.append("\"-\" (\(negative)) \(fraction)")
        }
        if let e = exclusiveMinimum, e == e.rounded(), e >= 0, e < limit, e == lowerBound, e + 1 <= upperBound ?? .infinity {
            options.append("\"\(Int64(e))\" \(nonZeroFraction)")
        }
        if let e = exclusiveMaximum, e == e.rounded(), e <= 0, e > -limit, e == upperBound, e - 1 >= lowerBound ?? -.infinity {
            options.append("\"-\(Int64(-e))\" \(nonZeroFraction)")
        }
        guard !options.isEmpty else { throw fail("no number lies between minimum and maximum", path) }
        return "(" + options.joined(separator: " | ") + ")"
    }
}
