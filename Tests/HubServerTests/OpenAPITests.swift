import Foundation
import HTTPTypes
import HubServer
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import Yams

/// docs/openapi.yaml and `Hub.router()` agree: the same (method, path) pairs, and every operation answers
/// with a status (and, for JSON, a body) that the document lists for it.
struct OpenAPITests {
    /// One operation: an HTTP method and an OpenAPI path template (`/api/holds/{connector}/{id}`).
    struct Operation: Hashable, Comparable, CustomStringConvertible, Sendable {
        var method: String
        var path: String
        var description: String { "\(method) \(path)" }
        static func < (lhs: Self, rhs: Self) -> Bool { (lhs.path, lhs.method) < (rhs.path, rhs.method) }
    }

    static let adminToken = "admin-secret"

    /// The token of the scheme an operation declares.
    static func token(for spec: [String: Any]) -> String {
        let schemes = ((spec["security"] as? [[String: Any]]) ?? []).flatMap(\.keys)
        return schemes.contains("metricsToken") ? HubHarness.metricsToken : adminToken
    }

    /// A value for every path parameter the document uses.
    static let placeholders = ["connector": "crm", "batch": "crm-1", "id": "r1", "token": "not-a-token"]

    /// Minimal valid bodies, by operation. An operation whose request body is required must have one here.
    static let bodies: [String: String] = [
        "POST /webhooks/{connector}": #"[{"id": "e1", "record": "r1", "deleted": false}]"#,
        "POST /api/approvals/{batch}/approve": #"{"by": "dpo"}"#,
        "POST /api/holds": #"{"connector": "crm", "ids": ["r1"], "reason": "litigation"}"#,
        "POST /api/retry": #"{"all": true}"#,
        "POST /signin": "token=not-a-token",
        "POST /api/approvals/{batch}/reject": #"{"reason": "the export looked truncated"}"#,
        "POST /holds": "connector=crm&ids=r1&reason=litigation",
        "POST /holds/lift": "connector=crm&reference=r-x",
        "POST /dead/retry": "all=true",
        "POST /approvals/{batch}/reject": "reason=checked",
        "POST /whatif": "horizon=90d",
    ]

    /// The routes anyone may call (each authenticates what it receives in its own way, or serves no data).
    static let unauthenticated: Set<String> = ["/healthz", "/readyz", "/webhooks/{connector}", "/consent/{token}", "/signin", "/signout"]

    // MARK: (a) the same routes

    @Test func theDocumentAndTheRouterListTheSameRoutes() throws {
        let documented = Set(try Self.operations().keys)
        let served = Set(try HubHarness().hub.router().routes.map {
            Operation(method: $0.method.rawValue, path: Self.template("\($0.path)"))
        })
        #expect(!served.isEmpty)
        for operation in served.subtracting(documented).sorted() {
            Issue.record("served but not in docs/openapi.yaml: \(operation)")
        }
        for operation in documented.subtracting(served).sorted() {
            Issue.record("in docs/openapi.yaml but not served: \(operation)")
        }
        #expect(documented == served)
    }

    // MARK: (b) every operation answers as documented

    @Test func everyOperationAnswersWithADocumentedStatus() async throws {
        let document = try Self.document()
        let operations = try Self.operations()
        #expect(operations.count >= 12)
        for (operation, spec) in operations.sorted(by: { $0.key < $1.key }) {
            let secured = !((spec["security"] as? [Any]) ?? (document["security"] as? [Any]) ?? []).isEmpty
            var headers: HTTPFields = [.contentType: "application/json"]
            if secured { headers[.authorization] = "Bearer \(Self.token(for: spec))" }
            if operation.path.hasPrefix("/webhooks/") { headers[HTTPField.Name("X-Test-Signature")!] = "good" }
            let body = Self.bodies[operation.description].map { ByteBuffer(string: $0) }
            if (spec["requestBody"] as? [String: Any])?["required"] as? Bool == true {
                #expect(body != nil, "\(operation): its request body is required; add a minimal one to OpenAPITests.bodies")
            }
            let response = try await Self.run(operation, headers: headers, body: body)
            try Self.check(response, of: operation, spec: spec, in: document)
        }
    }

    @Test func everySecuredOperationIs401WithoutATokenAnd403WhenTheAPIIsOff() async throws {
        let document = try Self.document()
        for (operation, spec) in try Self.operations().sorted(by: { $0.key < $1.key }) {
            let secured = !((spec["security"] as? [Any]) ?? (document["security"] as? [Any]) ?? []).isEmpty
            #expect(secured == !Self.unauthenticated.contains(operation.path),
                    "\(operation): every route but \(Self.unauthenticated.sorted()) declares bearer security")
            guard secured else { continue }
            let metrics = operation.path == "/metrics"
            let body = Self.bodies[operation.description].map { ByteBuffer(string: $0) }
            let missing = try await Self.run(operation, headers: [.contentType: "application/json"], body: body)
            #expect(missing.status == .unauthorized, "\(operation) without a token")
            try Self.check(missing, of: operation, spec: spec, in: document)
            let wrong = try await Self.run(operation, headers: [.authorization: "Bearer wrong", .contentType: "application/json"], body: body)
            #expect(wrong.status == .unauthorized, "\(operation) with a wrong token")
            let off = try await Self.run(
                operation, headers: [.authorization: "Bearer \(Self.token(for: spec))"], body: body,
                adminToken: metrics ? Self.adminToken : nil, metricsToken: metrics ? nil : HubHarness.metricsToken)
            #expect(off.status == (metrics ? .notFound : .forbidden), "\(operation) without its token configured")
            try Self.check(off, of: operation, spec: spec, in: document)
        }
    }

    // MARK: Requests and checks

    /// Runs one request for `operation` through a fresh hub's router.
    static func run(
        _ operation: Operation, headers: HTTPFields, body: ByteBuffer?, adminToken: String? = OpenAPITests.adminToken,
        metricsToken: String? = HubHarness.metricsToken
    ) async throws -> TestResponse {
        let uri = try uri(for: operation)
        let method = try #require(HTTPRequest.Method(operation.method), "\(operation): not an HTTP method")
        let harness = try HubHarness(adminToken: adminToken, metricsToken: metricsToken)
        return try await Application(router: harness.hub.router()).test(.router) { client in
            try await client.execute(uri: uri, method: method, headers: headers, body: body)
        }
    }

    /// The operation's path with every `{parameter}` replaced by its placeholder.
    static func uri(for operation: Operation) throws -> String {
        let parts = try operation.path.split(separator: "/", omittingEmptySubsequences: false).map { part -> String in
            guard part.hasPrefix("{"), part.hasSuffix("}") else { return String(part) }
            let name = String(part.dropFirst().dropLast())
            return try #require(placeholders[name], "\(operation): no placeholder for path parameter '\(name)'")
        }
        return parts.joined(separator: "/")
    }

    /// The status is one the document lists for the operation; its content type and, for JSON, the
    /// required keys of its schema match what the document says for that status.
    static func check(_ response: TestResponse, of operation: Operation, spec: [String: Any], in document: [String: Any]) throws {
        let responses = try #require(spec["responses"] as? [String: Any], "\(operation): no responses")
        let status = String(response.status.code)
        guard let listed = responses[status] else {
            Issue.record("\(operation) answered \(status), not among the documented \(responses.keys.sorted())")
            return
        }
        let documented = try resolve(listed, in: document)
        guard let content = documented["content"] as? [String: Any], !content.isEmpty else { return }
        let contentType = response.headers[.contentType] ?? ""
        guard let mediaType = content.keys.first(where: { contentType.hasPrefix($0) }) else {
            Issue.record("\(operation) \(status): Content-Type '\(contentType)' is not among \(content.keys.sorted())")
            return
        }
        guard mediaType == "application/json",
            let media = content[mediaType] as? [String: Any], let rawSchema = media["schema"]
        else { return }
        let schema = try resolve(rawSchema, in: document)
        let value = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView), options: [.fragmentsAllowed])
        guard let required = schema["required"] as? [String] else { return }
        let object = try #require(value as? [String: Any], "\(operation) \(status): the body is not a JSON object")
        for key in required {
            #expect(object[key] != nil, "\(operation) \(status): the body lacks '\(key)', which the document requires")
        }
        if let properties = schema["properties"] as? [String: Any], schema["additionalProperties"] == nil {
            for key in object.keys where properties[key] == nil {
                Issue.record("\(operation) \(status): the body has '\(key)', which the document does not describe")
            }
        }
    }

    /// Follows `$ref`s (`#/components/...`) to the object they name.
    static func resolve(_ value: Any, in document: [String: Any]) throws -> [String: Any] {
        var current = try #require(value as? [String: Any], "not an object: \(value)")
        var hops = 0
        while let reference = current["$ref"] as? String {
            hops += 1
            try #require(hops < 16 && reference.hasPrefix("#/"), "unresolvable $ref \(reference)")
            var node: Any = document
            for part in reference.dropFirst(2).split(separator: "/") {
                node = try #require((node as? [String: Any])?[String(part)], "unresolvable $ref \(reference)")
            }
            current = try #require(node as? [String: Any], "$ref \(reference) is not an object")
        }
        return current
    }

    // MARK: The document

    static let methods: Set<String> = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]

    /// Every operation of the document, with its operation object.
    static func operations() throws -> [Operation: [String: Any]] {
        let paths = try #require(try document()["paths"] as? [String: Any], "docs/openapi.yaml has no paths")
        var operations: [Operation: [String: Any]] = [:]
        for (path, item) in paths {
            let item = try #require(item as? [String: Any], "\(path) is not a path item")
            for (method, spec) in item where methods.contains(method) {
                operations[Operation(method: method.uppercased(), path: path)] = try #require(spec as? [String: Any], "\(method) \(path)")
            }
        }
        return operations
    }

    static func document() throws -> [String: Any] {
        let text = try String(contentsOf: try documentURL(), encoding: .utf8)
        let root = try #require(try Yams.load(yaml: text), "docs/openapi.yaml is empty")
        let document = try #require(plain(root) as? [String: Any], "docs/openapi.yaml is not a mapping")
        #expect((document["openapi"] as? String)?.hasPrefix("3.1") == true)
        return document
    }

    /// docs/openapi.yaml of the package that holds this file (the folder with Package.swift).
    static func documentURL(file: String = #filePath) throws -> URL {
        var folder = URL(fileURLWithPath: file).deletingLastPathComponent()
        while folder.path != "/" && !folder.path.isEmpty {
            if FileManager.default.fileExists(atPath: folder.appendingPathComponent("Package.swift").path) {
                return folder.appendingPathComponent("docs/openapi.yaml")
            }
            folder = folder.deletingLastPathComponent()
        }
        throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: "Package.swift above \(file)"])
    }

    /// Yams' `[AnyHashable: Any]` mappings as `[String: Any]` (status codes written `200:` are integers).
    static func plain(_ value: Any) -> Any {
        if let mapping = value as? [AnyHashable: Any] {
            return Dictionary(mapping.map { ("\($0.key.base)", plain($0.value)) }) { first, _ in first }
        }
        if let sequence = value as? [Any] { return sequence.map(plain) }
        return value
    }

    /// A router path (`/api/holds/:connector/:id` or `{connector}`) as an OpenAPI template.
    static func template(_ path: String) -> String {
        let parts = path.split(separator: "/").map { part in
            part.hasPrefix(":") ? "{\(part.dropFirst())}" : String(part)
        }
        return "/" + parts.joined(separator: "/")
    }
}
