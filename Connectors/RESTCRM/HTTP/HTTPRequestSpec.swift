import Foundation

/// One request, relative to the manifest's `baseURL` (a path starting with `/`) or an absolute URL
/// on the same host (a next-page URL from a body). `query` items are percent-encoded and appended
/// to any query already in `path`.
///
/// Error messages and log lines name the request by `method` and `displayPath` when set, else by
/// `path` without its query: pass the unrendered template (`/crm/v3/objects/contacts/{{id}}`) as
/// `displayPath` when the path carries a record id.
struct HTTPRequestSpec: Sendable, Equatable {
    var method: String
    var path: String
    var query: [(name: String, value: String)]
    var headers: [(name: String, value: String)]
    /// JSON; `Content-Type: application/json` is added when set (unless `headers` has one).
    var body: Data?
    /// What messages show instead of `path`; never the query.
    var displayPath: String?

    init(
        method: String,
        path: String,
        query: [(name: String, value: String)] = [],
        headers: [(name: String, value: String)] = [],
        body: Data? = nil,
        displayPath: String? = nil
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.displayPath = displayPath
    }

    static func == (lhs: HTTPRequestSpec, rhs: HTTPRequestSpec) -> Bool {
        lhs.method == rhs.method && lhs.path == rhs.path && lhs.body == rhs.body && lhs.displayPath == rhs.displayPath
            && lhs.query.map(\.name) == rhs.query.map(\.name) && lhs.query.map(\.value) == rhs.query.map(\.value)
            && lhs.headers.map(\.name) == rhs.headers.map(\.name) && lhs.headers.map(\.value) == rhs.headers.map(\.value)
    }

    /// What makes two requests the same request (method, path, query and body; never headers, which
    /// carry credentials): a list that asks for the same page twice is looping.
    var identity: String {
        let query = self.query.map { "\($0.name)=\($0.value)" }.joined(separator: "&")
        return "\(method) \(path)?\(query) \(body.map { String(decoding: $0, as: UTF8.self) } ?? "")"
    }

    /// `METHOD /path` for messages: the display path, or the path without query, scheme and host.
    var summary: String {
        if let displayPath { return "\(method) \(Self.stripQuery(displayPath))" }
        var text = Self.stripQuery(path)
        for scheme in ["https://", "http://"] where text.lowercased().hasPrefix(scheme) {
            let rest = text.dropFirst(scheme.count)
            text = rest.firstIndex(of: "/").map { String(rest[$0...]) } ?? "/"
        }
        return "\(method) \(text)"
    }

    private static func stripQuery(_ text: String) -> String {
        String(text.prefix { $0 != "?" && $0 != "#" })
    }
}

/// A final response: any status the client did not retry away.
struct HTTPResult: Sendable {
    var status: Int
    var headers: [(name: String, value: String)]
    var body: Data

    init(status: Int, headers: [(name: String, value: String)] = [], body: Data = Data()) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first value of a header, by case-insensitive name.
    func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name.lowercased() == wanted }?.value
    }
}
