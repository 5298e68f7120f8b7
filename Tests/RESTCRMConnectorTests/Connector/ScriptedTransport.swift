import Foundation
import LetheConfig
@testable import RESTCRMConnector
import RetentionCore
import Synchronization

/// An in-process `HTTPSending`: a closure answers each request; every request is recorded.
final class ScriptedTransport: HTTPSending, Sendable {
    typealias Handler = @Sendable (HTTPRequestSpec) -> HTTPResult
    private let handler: Handler
    private let log = Mutex<[HTTPRequestSpec]>([])
    let codePaths: [String]

    init(codePaths: [String] = ["[0].errorCode", "category", "errorCode"], _ handler: @escaping Handler) {
        self.handler = handler
        self.codePaths = codePaths
    }

    var requests: [HTTPRequestSpec] { log.withLock { $0 } }

    /// The handler's answer, without recording.
    func answer(_ request: HTTPRequestSpec) -> HTTPResult { handler(request) }

    func send(_ request: HTTPRequestSpec, expectJSON: Bool) async throws -> HTTPResult {
        log.withLock { $0.append(request) }
        return handler(request)
    }

    func errorCode(in body: Data) -> String? {
        guard let json = try? JSONSerialization.jsonObject(with: body) else { return nil }
        if let array = json as? [[String: Any]], let code = array.first?["errorCode"] as? String { return code }
        if let object = json as? [String: Any] {
            for key in ["category", "errorCode"] { if let code = object[key] { return "\(code)" } }
        }
        return nil
    }

    func failure(for request: HTTPRequestSpec, result: HTTPResult) -> RESTCRMConnectorError {
        RESTCRMConnectorError(
            code: "rest.http_\(result.status)", message: "\(request.summary) answered \(result.status)",
            isTransient: result.status >= 500 || result.status == 429)
    }
}

enum Fixture {
    static let repository: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
        }
        fatalError("no Package.swift above \(#filePath)")
    }()

    static let pipedriveKeys = [
        "PIPEDRIVE_FIELD_PURPOSE": "a1b2c3d4e5f60718293a4b5c6d7e8f9012345601",
        "PIPEDRIVE_FIELD_MARKETING_CONSENT": "a1b2c3d4e5f60718293a4b5c6d7e8f9012345602",
        "PIPEDRIVE_FIELD_INTERESTS": "a1b2c3d4e5f60718293a4b5c6d7e8f9012345603",
        "PIPEDRIVE_FIELD_CONSENT_EXTENDED_AT": "a1b2c3d4e5f60718293a4b5c6d7e8f9012345604",
    ]

    static let environment: [String: String] = [
        "HUBSPOT_BASE_URL": "http://127.0.0.1:1", "HUBSPOT_TOKEN": "hs-secret-token",
        "SALESFORCE_INSTANCE_URL": "http://127.0.0.1:1", "SALESFORCE_ACCESS_TOKEN": "sf-secret-token",
        "PIPEDRIVE_BASE_URL": "http://127.0.0.1:1", "PIPEDRIVE_API_TOKEN": "pd-secret-token",
    ].merging(pipedriveKeys) { a, _ in a }

    /// A shipped manifest (config/connectors/NAME.yaml), loaded as Lethe loads it.
    static func shipped(_ name: String, environment: [String: String] = environment) throws -> Manifest {
        let url = repository.appendingPathComponent("config/connectors/\(name).yaml")
        return try Manifest(config: try ConfigLoader(environment: environment).loadTree(file: url))
    }

    /// A manifest from YAML text (written to a temporary file so errors carry file:line).
    static func manifest(_ yaml: String, environment: [String: String] = [:]) throws -> Manifest {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("manifest-\(UUID().uuidString).yaml")
        try Data(yaml.utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        return try Manifest(config: try ConfigLoader(environment: environment).loadTree(file: url))
    }

    static func connector(_ manifest: Manifest, _ transport: ScriptedTransport, now: String = "2026-11-29T00:00:00Z") -> RESTCRMConnector {
        let clock = FixedClock(DateParser(zone: TimeZone(secondsFromGMT: 0)!).parse(now)!)
        let context = ConnectorContext(
            name: manifest.name, clock: clock, log: { _, _, _ in }, stateDirectory: FileManager.default.temporaryDirectory,
            configDirectory: repository.appendingPathComponent("config"))
        return RESTCRMConnector(manifest: manifest, client: transport, context: context)
    }

    static func json(_ object: Any, status: Int = 200, headers: [(name: String, value: String)] = []) -> HTTPResult {
        HTTPResult(status: status, headers: headers, body: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
    }

    static func body(_ request: HTTPRequestSpec) -> [String: Any] {
        request.body.flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] } ?? [:]
    }

    static func query(_ request: HTTPRequestSpec, _ name: String) -> String? {
        request.query.first { $0.name == name }?.value
    }

    static func collect(_ connector: RESTCRMConnector, _ request: PullRequest = PullRequest()) async throws -> [RecordBatch] {
        var batches: [RecordBatch] = []
        for try await batch in connector.pull(request) { batches.append(batch) }
        return batches
    }
}
