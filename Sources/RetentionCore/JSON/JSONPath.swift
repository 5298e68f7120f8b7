/// A path into a JSON document: dot-separated object keys, each optionally followed by array
/// steps in brackets; `$` alone is the document itself.
///
/// - `properties.createdate`, `paging.next.after`: object keys;
/// - `items[0]`: an array index (0-based);
/// - `email[primary=true].value`: in an array of objects, the first element whose `primary` reads
///   as `true` (compared as text, see `JSONValue.text`); when none matches, the first element
///   (the provider's order); an empty array yields nothing.
///
/// Keys cannot contain `.` or `[`. A step that does not fit the document (a key on an array, an
/// index out of range) yields nothing rather than an error: a missing value is data, not a failure.
public struct JSONPath: Sendable, Hashable, CustomStringConvertible {
    enum Step: Sendable, Hashable {
        case key(String)
        case index(Int)
        case select(key: String, value: String)
    }

    let steps: [Step]
    /// The path as written.
    public let description: String

    /// `nil` when the text is not a valid path (empty, an empty key, an unclosed or empty bracket).
    public init?(_ text: String) {
        guard !text.isEmpty else { return nil }
        if text == "$" {
            self.steps = []
            self.description = text
            return
        }
        var steps: [Step] = []
        for (position, part) in text.split(separator: ".", omittingEmptySubsequences: false).enumerated() {
            guard let parsed = Self.parse(part, first: position == 0) else { return nil }
            steps += parsed
        }
        self.steps = steps
        self.description = text
    }

    /// One dot-separated part: `key`, `key[0]`, `key[k=v]`, or (first part only) `[0]`.
    private static func parse(_ part: Substring, first: Bool) -> [Step]? {
        let key = part.prefix { $0 != "[" }
        guard !key.contains("]") else { return nil }
        var rest = part.dropFirst(key.count)
        var steps: [Step] = []
        if !key.isEmpty {
            steps.append(.key(String(key)))
        } else if !(first && !rest.isEmpty) {
            return nil
        }
        while !rest.isEmpty {
            guard rest.first == "[", let close = rest.firstIndex(of: "]") else { return nil }
            let inner = rest[rest.index(after: rest.startIndex)..<close]
            rest = rest[rest.index(after: close)...]
            if !inner.isEmpty, inner.allSatisfy({ $0.isASCII && $0.isNumber }), let index = Int(inner) {
                steps.append(.index(index))
            } else if let equals = inner.firstIndex(of: "="), equals != inner.startIndex {
                let selectKey = String(inner[..<equals])
                let value = String(inner[inner.index(after: equals)...])
                steps.append(.select(key: selectKey, value: value))
            } else {
                return nil
            }
        }
        return steps
    }

    /// The value at this path, or `nil` when any step is missing.
    public func evaluate(_ root: JSONValue) -> JSONValue? {
        var current = root
        for step in steps {
            switch (step, current) {
            case (.key(let key), .object(let members)):
                guard let next = members[key] else { return nil }
                current = next
            case (.index(let index), .array(let items)):
                guard items.indices.contains(index) else { return nil }
                current = items[index]
            case (.select(let key, let value), .array(let items)):
                let match = items.first { item in
                    if case .object(let members) = item { return members[key]?.text == value }
                    return false
                }
                guard let chosen = match ?? items.first else { return nil }
                current = chosen
            default:
                return nil
            }
        }
        return current
    }
}
