import Foundation
import RetentionCore

/// The values a request template may use: `{{pageSize}}`, `{{cursor}}`, `{{offset}}`, `{{page}}`,
/// `{{watermark}}`, `{{id}}`, `{{ids}}`, `{{ids:KEY}}` (the ids as `[{"KEY": id}, …]`) and
/// `{{fields}}` (an update's provider fields as an object).
struct TemplateVariables: Sendable {
    var values: [String: JSONValue] = [:]

    init() {}

    subscript(name: String) -> JSONValue? {
        get { values[name] }
        set { values[name] = newValue }
    }

    static let known: Set<String> = ["pageSize", "cursor", "offset", "page", "watermark", "id", "ids", "fields"]

    /// The JSON value of a placeholder: `ids:KEY` is derived from `ids`.
    func json(_ name: String) -> JSONValue? {
        if name.hasPrefix("ids:") {
            let key = String(name.dropFirst(4))
            guard case .array(let ids)? = values["ids"] else { return nil }
            return .array(ids.map { .object([key: $0]) })
        }
        return values[name]
    }

    /// The text of a placeholder inside a longer string or a path: lists are joined with `,`.
    func text(_ name: String) -> String? {
        switch json(name) {
        case .array(let items)?: return items.compactMap(\.text).joined(separator: ",")
        case let value?: return value.text
        case nil: return nil
        }
    }

    static func isValid(_ name: String) -> Bool {
        known.contains(name) || (name.hasPrefix("ids:") && name.count > 4)
    }
}

/// A text with `{{name}}` placeholders (paths, query values, headers).
struct TextTemplate: Sendable, Equatable {
    enum Part: Sendable, Equatable {
        case literal(String)
        case variable(String)
    }

    let parts: [Part]

    init(parts: [Part]) { self.parts = parts }

    /// `nil` when a `{{` is unclosed or names an unknown variable.
    init?(_ text: String) {
        var parts: [Part] = []
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            if open.lowerBound > rest.startIndex { parts.append(.literal(String(rest[..<open.lowerBound]))) }
            guard let close = rest[open.upperBound...].range(of: "}}") else { return nil }
            let name = String(rest[open.upperBound..<close.lowerBound]).trimmingCharacters(in: .whitespaces)
            guard TemplateVariables.isValid(name) else { return nil }
            parts.append(.variable(name))
            rest = rest[close.upperBound...]
        }
        if !rest.isEmpty { parts.append(.literal(String(rest))) }
        self.parts = parts
    }

    /// The text as written, placeholders included (for messages: no ids or values).
    var template: String {
        parts.map { part in
            switch part {
            case .literal(let text): return text
            case .variable(let name): return "{{\(name)}}"
            }
        }.joined()
    }

    /// The single variable when the whole text is one placeholder.
    var soleVariable: String? {
        if parts.count == 1, case .variable(let name) = parts[0] { return name }
        return nil
    }

    var variables: [String] {
        parts.compactMap { part in
            if case .variable(let name) = part { return name }
            return nil
        }
    }

    /// The rendered text; unset variables render empty. `encode` is applied to variable values only.
    func render(_ variables: TemplateVariables, encode: (String) -> String = { $0 }) -> String {
        parts.map { part in
            switch part {
            case .literal(let text): return text
            case .variable(let name): return encode(variables.text(name) ?? "")
            }
        }.joined()
    }

    static func config(_ node: ConfigNode) throws(ConfigError) -> TextTemplate {
        let text = try node.string()
        guard let template = TextTemplate(text) else {
            let names = TemplateVariables.known.sorted().joined(separator: ", ")
            throw node.error("config.template", "unclosed {{ or unknown variable (known: \(names), ids:KEY)")
        }
        return template
    }
}

/// A JSON body template: valid JSON in which a string that is exactly one placeholder
/// (`"{{ids}}"`) becomes that variable's JSON value (a number, an array, an object), an object member
/// whose whole-placeholder value is unset or empty is left out (`"after": "{{cursor}}"` on the first
/// page), and placeholders inside longer strings are replaced by their text.
struct JSONTemplate: Sendable, Equatable {
    let root: JSONValue

    static func config(_ node: ConfigNode) throws(ConfigError) -> JSONTemplate {
        let text = try node.string()
        let root: JSONValue
        do {
            root = try JSONValue.parse(Data(text.utf8))
        } catch {
            throw node.error("config.json", "the body template is not valid JSON")
        }
        let template = JSONTemplate(root: root)
        try template.check(root, node: node)
        return template
    }

    private func check(_ value: JSONValue, node: ConfigNode) throws(ConfigError) {
        switch value {
        case .string(let text):
            if TextTemplate(text) == nil { _ = try TextTemplate.config(ConfigNode(value: .scalar(text), location: node.location, keyPath: node.keyPath)) }
        case .array(let items): for item in items { try check(item, node: node) }
        case .object(let members): for (_, member) in members { try check(member, node: node) }
        default: break
        }
    }

    func render(_ variables: TemplateVariables) -> JSONValue {
        Self.render(root, variables) ?? .null
    }

    /// `nil`: an unset whole placeholder (its member is dropped).
    private static func render(_ value: JSONValue, _ variables: TemplateVariables) -> JSONValue? {
        switch value {
        case .string(let text):
            guard let template = TextTemplate(text), !template.variables.isEmpty else { return value }
            if let name = template.soleVariable {
                guard let found = variables.json(name) else { return nil }
                if case .string(let string) = found, string.isEmpty { return nil }
                return found
            }
            return .string(template.render(variables))
        case .array(let items):
            return .array(items.compactMap { render($0, variables) })
        case .object(let members):
            var rendered: [String: JSONValue] = [:]
            for (key, member) in members {
                if let value = render(member, variables) { rendered[key] = value }
            }
            return .object(rendered)
        default:
            return value
        }
    }
}
