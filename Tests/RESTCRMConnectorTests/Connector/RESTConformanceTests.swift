import ConnectorConformance
import Foundation
@testable import RESTCRMConnector
import RetentionCore
import Synchronization
import Testing

/// A plain REST CRM in memory: `GET /contacts?per_page=&page=` with RFC 8288 `Link` paging, and
/// `GET`/`PATCH`/`DELETE /contacts/{id}` answering 404 for what is not there.
final class LinkPagedCRM: Sendable {
    private let store: Mutex<[(id: String, fields: [String: String])]>

    init(_ records: [SourceRecord]) {
        store = Mutex(records.map { ($0.id, $0.fields.merging(["id": $0.id]) { $1 }) })
    }

    var transport: ScriptedTransport { ScriptedTransport { request in self.answer(request) } }

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

struct RESTConformanceSubject: ConformanceSubject {
    func make(seededWith records: [SourceRecord]) async throws -> ConnectorInstance {
        let crm = LinkPagedCRM(records)
        let connector = Fixture.connector(try Fixture.manifest(LinkPagedCRM.manifest), crm.transport)
        return ConnectorInstance(source: connector, writer: connector)
    }
}

@Suite struct RESTConformanceTests {
    @Test(arguments: ConformanceCheck.allCases)
    func conformance(_ check: ConformanceCheck) async throws {
        try await runConformance(check, subject: RESTConformanceSubject())
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
