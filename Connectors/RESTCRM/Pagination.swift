import Foundation
import RetentionCore

/// How a list walks its pages.
///
/// ```yaml
/// pagination: {type: cursor, next: paging.next.after}            # HubSpot: {{cursor}} from the body
/// pagination: {type: next-url, next: nextRecordsUrl, done: done}   # Salesforce: follow the URL
/// pagination: {type: offset, next: additional_data.pagination.next_start,
///              more: additional_data.pagination.more_items_in_collection}   # Pipedrive: {{offset}}
/// pagination: {type: page, start: 1}                               # {{page}} until an empty page
/// pagination: {type: link}                                         # RFC 8288 Link: <…>; rel="next"
/// pagination: {type: none}
/// ```
/// Every type also stops at a page with no records, and at `stop: {path: …, equals: …}` when given.
enum Pagination: Sendable, Equatable {
    case none
    case cursor(next: JSONPath)
    case nextURL(next: JSONPath, done: JSONPath?)
    case offset(next: JSONPath?, more: JSONPath?)
    case page(start: Int)
    case link

    static let keys: Set<String> = ["type", "next", "done", "more", "start", "stop"]

    init(config node: ConfigNode) throws(ConfigError) {
        try node.rejectUnknownKeys(allowed: Self.keys)
        guard let typeNode = node["type"] else { throw node.error("config.missing", "type is required (cursor, next-url, offset, page, link, none)") }
        switch try typeNode.string() {
        case "none": self = .none
        case "cursor": self = .cursor(next: try Self.path(node, "next", required: true)!)
        case "next-url": self = .nextURL(next: try Self.path(node, "next", required: true)!, done: try Self.path(node, "done"))
        case "offset": self = .offset(next: try Self.path(node, "next"), more: try Self.path(node, "more"))
        case "page": self = .page(start: try node["start"]?.int() ?? 1)
        case "link": self = .link
        case let other:
            throw typeNode.error("config.choice", "expected cursor, next-url, offset, page, link or none, found '\(other.prefix(20))'")
        }
    }

    static func path(_ node: ConfigNode, _ key: String, required: Bool = false) throws(ConfigError) -> JSONPath? {
        guard let child = node[key] else {
            if required { throw node.error("config.missing", "\(key) is required for this pagination type") }
            return nil
        }
        let text = try child.string()
        guard let path = JSONPath(text) else { throw child.error("config.path", "expected a JSON path such as paging.next.after") }
        return path
    }
}

/// A stop condition: the page whose value at `path` reads `equals` is the last.
struct StopCondition: Sendable, Equatable {
    var path: JSONPath
    var equals: String

    init?(config node: ConfigNode?) throws(ConfigError) {
        guard let node else { return nil }
        try node.rejectUnknownKeys(allowed: ["path", "equals"])
        guard let path = try Pagination.path(node, "path", required: true) else { return nil }
        self.path = path
        guard let equalsNode = node["equals"] else { throw node.error("config.missing", "equals is required") }
        equals = try equalsNode.string()
    }

    func isMet(_ body: JSONValue) -> Bool {
        path.evaluate(body)?.text == equals
    }
}

/// Where the next page is, after one page was read.
enum PageStep: Sendable, Equatable {
    /// Request the list again with these variables.
    case variables(cursor: String?, offset: Int?, page: Int?)
    /// Request this URL (absolute, or a path relative to the base URL) as it is.
    case url(String)
    case done
    /// The answer says there is more but points nowhere new: the pull fails.
    case loop(String)
}

extension Pagination {
    /// The step after a page. `count` is the number of records on it; `offset` and `page` the
    /// values that requested it.
    func next(after body: JSONValue, headers: HTTPResult, count: Int, offset: Int, page: Int, pageSize: Int) -> PageStep {
        guard count > 0 else { return .done }
        switch self {
        case .none:
            return .done
        case .cursor(let path):
            guard let cursor = path.evaluate(body)?.text, !cursor.isEmpty else { return .done }
            return .variables(cursor: cursor, offset: nil, page: nil)
        case .nextURL(let path, let done):
            if let done, done.evaluate(body)?.text == "true" { return .done }
            guard let url = path.evaluate(body)?.text, !url.isEmpty else { return .done }
            return .url(url)
        case .offset(let nextPath, let morePath):
            if let morePath, morePath.evaluate(body)?.text != "true" { return .done }
            if let nextPath {
                guard let text = nextPath.evaluate(body)?.text, let next = Int(text) else { return .done }
                // "More" with a next offset that does not advance is a loop, not the end of the list.
                guard next > offset else { return morePath == nil ? .done : .loop("the next offset does not advance") }
                return .variables(cursor: nil, offset: next, page: nil)
            }
            return .variables(cursor: nil, offset: offset + count, page: nil)
        case .page:
            return .variables(cursor: nil, offset: nil, page: page + 1)
        case .link:
            guard let url = Self.nextLink(headers.header("Link")) else { return .done }
            return .url(url)
        }
    }

    /// The `rel="next"` target of an RFC 8288 `Link` header, if any.
    static func nextLink(_ header: String?) -> String? {
        guard let header else { return nil }
        for link in header.split(separator: ",") {
            let parts = link.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let target = parts.first, target.hasPrefix("<"), target.hasSuffix(">") else { continue }
            let isNext = parts.dropFirst().contains { parameter in
                let pieces = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard pieces.count == 2, pieces[0].lowercased() == "rel" else { return false }
                let relations = pieces[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"")).lowercased()
                return relations.split(separator: " ").contains("next")
            }
            if isNext { return String(target.dropFirst().dropLast()) }
        }
        return nil
    }
}
