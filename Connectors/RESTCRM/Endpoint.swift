import Foundation
import RetentionCore

/// One request a manifest declares: method, path, query, headers and an optional JSON body, all
/// with `{{variables}}`.
///
/// ```yaml
/// method: POST                                   # default GET
/// path: /crm/v3/objects/contacts/{{id}}          # {{…}} in a path is percent-encoded
/// query: {limit: "{{pageSize}}", after: "{{cursor}}"}   # an item whose whole value is empty is left out
/// headers: {Sforce-Query-Options: "batchSize={{pageSize}}"}
/// body: '{"inputs": "{{ids:id}}"}'               # JSON text, see JSONTemplate
/// ```
struct Endpoint: Sendable, Equatable {
    var method: String
    var path: TextTemplate
    var query: [(name: String, value: TextTemplate)]
    var headers: [(name: String, value: TextTemplate)]
    var body: JSONTemplate?

    static let keys: Set<String> = ["method", "path", "query", "headers", "body"]
    static let methods: Set<String> = ["GET", "POST", "PUT", "PATCH", "DELETE"]

    static func == (lhs: Endpoint, rhs: Endpoint) -> Bool {
        lhs.method == rhs.method && lhs.path == rhs.path && lhs.body == rhs.body
            && lhs.query.map(\.name) == rhs.query.map(\.name) && lhs.query.map(\.value) == rhs.query.map(\.value)
            && lhs.headers.map(\.name) == rhs.headers.map(\.name) && lhs.headers.map(\.value) == rhs.headers.map(\.value)
    }

    /// Decodes an endpoint; `extraKeys` are keys the caller reads from the same mapping.
    init(config node: ConfigNode, extraKeys: Set<String> = [], defaultMethod: String = "GET") throws(ConfigError) {
        try node.rejectUnknownKeys(allowed: Self.keys.union(extraKeys))
        if let methodNode = node["method"] {
            let text = try methodNode.string().uppercased()
            guard Self.methods.contains(text) else {
                throw methodNode.error("config.choice", "expected one of GET, POST, PUT, PATCH, DELETE, found '\(text.prefix(20))'")
            }
            method = text
        } else {
            method = defaultMethod
        }
        guard let pathNode = node["path"] else { throw node.error("config.missing", "path is required") }
        path = try TextTemplate.config(pathNode)
        let pathText = path.parts.compactMap { part -> String? in
            if case .literal(let text) = part { return text }
            return nil
        }.joined()
        guard pathText.hasPrefix("/") || pathText.hasPrefix("http://") || pathText.hasPrefix("https://") || path.soleVariable != nil
            || (path.parts.first.map { if case .variable = $0 { true } else { false } } ?? false)
        else {
            throw pathNode.error("config.path", "a path starts with / (relative to baseURL) or is an absolute URL")
        }
        query = []
        for (name, valueNode) in try node["query"]?.entries() ?? [] {
            query.append((name, try TextTemplate.config(valueNode)))
        }
        headers = []
        for (name, valueNode) in try node["headers"]?.entries() ?? [] {
            headers.append((name, try TextTemplate.config(valueNode)))
        }
        body = try node["body"].map { node throws(ConfigError) in try JSONTemplate.config(node) }
    }

    /// Every variable the endpoint uses.
    var variables: Set<String> {
        var names = Set(path.variables)
        for item in query { names.formUnion(item.value.variables) }
        for item in headers { names.formUnion(item.value.variables) }
        if let body { names.formUnion(Self.variables(in: body.root)) }
        return names
    }

    private static func variables(in value: JSONValue) -> [String] {
        switch value {
        case .string(let text): return TextTemplate(text)?.variables ?? []
        case .array(let items): return items.flatMap(variables)
        case .object(let members): return members.values.flatMap(variables)
        default: return []
        }
    }

    /// The request for these values.
    func request(_ variables: TemplateVariables) -> HTTPRequestSpec {
        let renderedPath = path.render(variables) { value in
            value.addingPercentEncoding(withAllowedCharacters: Self.segmentCharacters) ?? value
        }
        var items: [(name: String, value: String)] = []
        for item in query {
            if let name = item.value.soleVariable, (variables.text(name) ?? "").isEmpty { continue }
            items.append((item.name, item.value.render(variables)))
        }
        let renderedHeaders = headers.map { (name: $0.name, value: $0.value.render(variables)) }
        return HTTPRequestSpec(
            method: method, path: renderedPath, query: items, headers: renderedHeaders,
            body: body.map { $0.render(variables).serialized() },
            displayPath: path.template
        )
    }

    /// Unreserved characters of a path segment (RFC 3986).
    static let segmentCharacters = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")
}
