import ConnectorConformance
import Foundation
@testable import RESTCRMConnector
import RetentionCore
import Synchronization
import Testing

/// A plain REST CRM in memory: `GET /contacts?per_page=&page=` with RFC 8288 `Link` paging, and
/// `GET`/`PATCH`/`DELETE /contacts/{id}` answering 404 for what is not there. As a
/// `ConformanceBackend` it changes records directly and answers every request with a fault's status.
final class LinkPagedCRM: ConformanceBackend, Sendable {
    private let store: Mutex<[(id: String, fields: [String: String])]>
    private let fault = Mutex<ConformanceFault?>(nil)

    init(_ records: [SourceRecord]) {
        store = Mutex(records.map { ($0.id, $0.fields.merging(["id": $0.id]) { $1 }) })
    }

    var transport: ScriptedTransport { ScriptedTransport { request in self.answer(request) } }

    func change(_ id: String, fields: [String: String]) async throws {
        store.withLock { records in
            for index in records.indices where records[index].id == id { records[index].fields.merge(fields) { $1 } }
        }
    }

    /// Statuses and timeouts; this CRM has no batch answer to leave ids out of.
    func inject(_ fault: ConformanceFault) async throws {
        if case .omitFromBatchAnswers = fault { throw RESTCRMConnectorError(code: "test.unsupported", message: "no batch answers", isTransient: false) }
        self.fault.withLock { $0 = fault }
    }

    func clearFaults() async throws { fault.withLock { $0 = nil } }

    /// The fault in force for a request: a status answer, or (for a timeout) the error the HTTP
    /// client gives once its retries of a timed-out request are spent.
    func faultAnswer(_ request: HTTPRequestSpec) throws(RESTCRMConnectorError) -> HTTPResult? {
        switch fault.withLock({ $0 }) {
        case .status(let status):
            let code = status == 404 ? "NOT_FOUND" : "FAULT_\(status)"
            return Fixture.json(["error": "injected", "errorCode": code], status: status)
        case .timeout:
            throw RESTCRMConnectorError(code: "rest.network", message: "\(request.summary) failed: timeout", isTransient: true)
        case .omitFromBatchAnswers, nil: return nil
        }
    }

    func answer(_ request: HTTPRequestSpec) -> HTTPResult {
        var components = URLComponents(string: "http://crm.invalid" + request.path)!
        components.queryItems = (components.queryItems ?? []) + request.query.map { URLQueryItem(name: $0.name, value: $0.value) }
        let items = components.queryItems ?? []
        let path = components.percentEncodedPath
        if path == "/contacts", request.method == "GET" {
            let size = Int(items.first { $0.name == "per_page" }?.value ?? "2") ?? 2
            let page = Int(items.first { $0.name == "page" }?.value ?? "1") ?? 1
            let all = store.withLock { $0.map(\.fields) }
            let slice = Array(all.dropFirst((page - 1) * size).prefix(size))
            var headers: [(name: String, value: String)] = []
            if page * size < all.count {
                headers.append(("Link", #"</contacts?per_page=\#(size)&page=\#(page + 1)>; rel="next", </contacts?per_page=\#(size)&page=1>; rel="first""#))
            }
            return Fixture.json(slice, headers: headers)
        }
        guard path.hasPrefix("/contacts/") else { return HTTPResult(status: 400) }
        let id = String(path.dropFirst("/contacts/".count)).removingPercentEncoding ?? ""
        return store.withLock { records -> HTTPResult in
            guard let index = records.firstIndex(where: { $0.id == id }) else {
                return Fixture.json(["error": "not found", "errorCode": "NOT_FOUND"], status: 404)
            }
            switch request.method {
            case "GET": return Fixture.json(records[index].fields)
            case "DELETE":
                records.remove(at: index)
                return HTTPResult(status: 204)
            case "PATCH":
                let body = Fixture.body(request)
                for (key, value) in body { records[index].fields[key] = value as? String ?? "" }
                return Fixture.json(records[index].fields)
            default: return HTTPResult(status: 405)
            }
        }
    }

    static let manifest = """
        name: generic
        baseURL: http://crm.invalid
        list:
          path: /contacts
          pageSize: 2
          query: {per_page: "{{pageSize}}", page: "{{page}}"}
          pagination: {type: link}
        mapping:
          id: id
          fields: {name: name, email: email, phone: phone, created_at: created_at, purpose: purpose,
                   marketing_consent: marketing_consent, interests: interests, consent_extended_at: consent_extended_at}
        read:
          one: {path: "/contacts/{{id}}"}
        delete:
          mode: permanent
          one: {path: "/contacts/{{id}}"}
        update:
          path: "/contacts/{{id}}"
          body: '"{{fields}}"'
          fields: {name: name, email: email, phone: phone, purpose: purpose, marketing_consent: marketing_consent,
                   interests: interests, consent_extended_at: consent_extended_at}
        """
}

/// Sends to a `LinkPagedCRM`, through its faults.
struct LinkPagedTransport: HTTPSending {
    let crm: LinkPagedCRM
    let scripted: ScriptedTransport

    func send(_ request: HTTPRequestSpec, expectJSON: Bool) async throws -> HTTPResult {
        if let answer = try crm.faultAnswer(request) { return answer }
        return try await scripted.send(request, expectJSON: expectJSON)
    }

    func errorCode(in body: Data) -> String? { scripted.errorCode(in: body) }

    func failure(for request: HTTPRequestSpec, result: HTTPResult) -> RESTCRMConnectorError {
        scripted.failure(for: request, result: result)
    }
}

struct RESTConformanceSubject: ConformanceSubject {
    var exclusions: [ConformanceCheck: String] {
        [.batchAnswerLeavingIDsOutDeletesOnlyTheRest: "this manifest deletes one id per request: there is no batch answer"]
    }

    func make(seededWith records: [SourceRecord]) async throws -> ConnectorInstance {
        try await makeUnderTest(seededWith: records).instance
    }

    func makeUnderTest(seededWith records: [SourceRecord]) async throws -> SourceUnderTest {
        let crm = LinkPagedCRM(records)
        let context = ConnectorContext(
            name: "generic", clock: FixedClock(Date(timeIntervalSince1970: 1_750_000_000)), log: { _, _, _ in },
            stateDirectory: FileManager.default.temporaryDirectory, configDirectory: Fixture.repository)
        let connector = RESTCRMConnector(
            manifest: try Fixture.manifest(LinkPagedCRM.manifest), client: LinkPagedTransport(crm: crm, scripted: crm.transport),
            context: context)
        return SourceUnderTest(instance: ConnectorInstance(source: connector, writer: connector), backend: crm)
    }
}

@Suite struct RESTConformanceTests {
    @Test(arguments: ConformanceCheck.allCases)
    func conformance(_ check: ConformanceCheck) async throws {
        let outcome = try await runConformance(check, subject: RESTConformanceSubject())
        if case .notApplicable(let reason) = outcome {
            Issue.record(Comment(rawValue: "\(check) does not apply: \(reason)"), severity: .warning)
        }
    }

    @Test func linkPagingFollowsRelNextOnly() async throws {
        let crm = LinkPagedCRM(ConformanceFixtures.world)
        let transport = crm.transport
        let connector = Fixture.connector(try Fixture.manifest(LinkPagedCRM.manifest), transport)
        let records = try await Fixture.collect(connector).flatMap(\.records)
        #expect(records.map(\.id) == ConformanceFixtures.world.map(\.id))
        #expect(transport.requests.count == 4, "7 records, 2 per page")
        #expect(transport.requests[1].path == "/contacts?per_page=2&page=2")
    }

    @Test func nextLinkParsing() {
        #expect(Pagination.nextLink(#"<https://x.test/a?page=2>; rel="next""#) == "https://x.test/a?page=2")
        #expect(Pagination.nextLink(#"<https://x.test/a?page=1>; rel="prev", <https://x.test/a?page=3>; rel="next last""#) == "https://x.test/a?page=3")
        #expect(Pagination.nextLink(#"<https://x.test/a?page=1>; rel="prev""#) == nil)
        #expect(Pagination.nextLink(nil) == nil)
    }
}
