import Foundation
@testable import RESTCRMConnector
import RetentionCore
import Testing

/// Pipedrive v1's bulk `DELETE /v1/persons?ids=` (`delete.batch.confirmedIDs: data.id`): only the ids
/// the answer lists are deleted; every other id is re-read, and what the re-read finds decides.
///
/// The answers are the documented shape, `{"success": true, "data": {"id": [1, 2]}}` ("the list of
/// deleted persons IDs"). The reference does not say what the list holds for an unknown id or a person
/// deleted before: each test names the case it pins.
struct PipedriveBulkDeleteTests {
    static func deletes(_ ids: [String]) -> [WriteOperation] {
        ids.map { WriteOperation(id: "op-\($0)", kind: .delete, recordID: $0) }
    }

    static func connector(_ transport: ScriptedTransport) throws -> RESTCRMConnector {
        Fixture.connector(try Fixture.shipped("pipedrive-v1", environment: Fixture.environment), transport)
    }

    static let notFound = Fixture.json(
        ["success": false, "error": "Person not found", "errorCode": 404, "data": NSNull(), "additional_data": NSNull()], status: 404)

    /// A Pipedrive answer: the bulk delete lists `listed`; a person read by id is `people[id]`
    /// (active or not), or a 404.
    static func pipedrive(listed: [Int], people: [String: Bool] = [:], read: HTTPResult? = nil) -> ScriptedTransport {
        ScriptedTransport { request in
            if request.path == "/v1/personFields" { return Fixture.json(ShippedManifestTests.personFields) }
            if request.method == "DELETE", request.path == "/v1/persons" {
                return Fixture.json(["success": true, "data": ["id": listed]])
            }
            if let read { return read }
            let id = String(request.path.split(separator: "/").last ?? "")
            guard request.method == "GET", let active = people[id] else { return notFound }
            return Fixture.json(["success": true, "data": ShippedManifestTests.pipedrivePerson(Int(id)!, active: active)])
        }
    }

    @Test func onlyTheIDsTheAnswerListsAreDeletedAndTheOthersAreReRead() async throws {
        // 3 is unknown (404), 4 was deleted before (active_flag false), 5 is still there.
        let transport = Self.pipedrive(listed: [1, 2], people: ["4": false, "5": true])
        let outcomes = try await Self.connector(transport).apply(Self.deletes(["1", "2", "3", "4", "5"]))

        for index in [0, 1] {
            guard case .deleted(let receipt) = outcomes[index] else { Issue.record("listed id \(index + 1): \(outcomes[index])"); continue }
            #expect(receipt.mode == .soft && receipt.restorableUntil != nil)
        }
        guard case .alreadyGone = outcomes[2] else { Issue.record("unknown id, left out: \(outcomes[2])"); return }
        guard case .alreadyGone = outcomes[3] else { Issue.record("deleted before, left out: \(outcomes[3])"); return }
        guard case .failed(let failure) = outcomes[4] else { Issue.record("still there, left out: \(outcomes[4])"); return }
        #expect(failure.code == "rest.item_unconfirmed" && failure.isTransient, "retried by a later run, never dead")
        #expect(!failure.message.contains("5"), "no record id in a message")

        let deletes = transport.requests.filter { $0.method == "DELETE" }
        #expect(deletes.count == 1 && Fixture.query(deletes[0], "ids") == "1,2,3,4,5")
        let reads = transport.requests.filter { $0.method == "GET" && $0.path.hasPrefix("/v1/persons/") }.map(\.path).sorted()
        #expect(reads == ["/v1/persons/3", "/v1/persons/4", "/v1/persons/5"], "only the ids left out are re-read")
    }

    @Test func anAnswerListingEveryIDNeedsNoReRead() async throws {
        let transport = Self.pipedrive(listed: [7, 8])
        let outcomes = try await Self.connector(transport).apply(Self.deletes(["7", "8"]))
        #expect(outcomes.allSatisfy { if case .deleted = $0 { true } else { false } })
        #expect(transport.requests.map(\.method) == ["DELETE"])
    }

    /// Not confirmed from the docs: a person deleted before may be listed again. The answer is taken at
    /// its word (deleted), as a repeated single DELETE answering success is.
    @Test func aPersonDeletedBeforeAndListedAgainIsReportedDeleted() async throws {
        let transport = Self.pipedrive(listed: [4], people: ["4": false])
        let outcomes = try await Self.connector(transport).apply(Self.deletes(["4"]))
        guard case .deleted = outcomes[0] else { Issue.record("\(outcomes[0])"); return }
    }

    @Test(arguments: [
        #"{"success":true,"data":null}"#, #"{"success":true,"data":{}}"#, #"{"success":true}"#, "not json",
    ])
    func anAnswerWithoutAListConfirmsNothing(body: String) async throws {
        let transport = ScriptedTransport { request in
            if request.path == "/v1/personFields" { return Fixture.json(ShippedManifestTests.personFields) }
            if request.method == "DELETE" { return HTTPResult(status: 200, headers: [], body: Data(body.utf8)) }
            return request.path == "/v1/persons/1"
                ? Fixture.json(["success": true, "data": ShippedManifestTests.pipedrivePerson(1)]) : Self.notFound
        }
        let outcomes = try await Self.connector(transport).apply(Self.deletes(["1", "2"]))
        guard case .failed(let failure) = outcomes[0], case .alreadyGone = outcomes[1] else {
            Issue.record("unexpected outcomes \(outcomes)")
            return
        }
        #expect(failure.isTransient)
    }

    /// A re-read that fails as a whole is no verdict on the ids it was about.
    @Test(arguments: [(503, true), (403, false)])
    func aReReadThatFailsIsThatFailureNeverAVerdict(status: Int, transient: Bool) async throws {
        let failing = Fixture.json(["success": false, "error": "unavailable", "errorCode": status], status: status)
        let transport = Self.pipedrive(listed: [1], read: failing)
        let outcomes = try await Self.connector(transport).apply(Self.deletes(["1", "2", "3"]))
        guard case .deleted = outcomes[0] else { Issue.record("the listed id: \(outcomes[0])"); return }
        for outcome in outcomes.dropFirst() {
            guard case .failed(let failure) = outcome else { Issue.record("a failed re-read gave a verdict: \(outcome)"); continue }
            #expect(failure.code == "rest.http_\(status)")
            #expect(failure.isTransient == transient)
        }
    }

    @Test func theShippedManifestNamesTheListOfDeletedIDs() throws {
        let manifest = try Fixture.shipped("pipedrive-v1", environment: Fixture.environment)
        #expect(manifest.delete?.confirmedIDs == JSONPath("data.id"))
        #expect(manifest.delete?.results == nil)
    }

    static let confirmedBatch = #"{method: DELETE, path: /people, query: {ids: "{{ids}}"}, confirmedIDs: data.id"#

    @Test func confirmedIDsAndPerItemResultsExcludeEachOther() throws {
        let yaml = Self.manifest(batch: Self.confirmedBatch + ", results: {id: id, success: success}}", read: true)
        #expect { try Fixture.manifest(yaml) } throws: { ($0 as? ConfigError)?.code == "config.conflict" }
    }

    @Test func confirmedIDsNeedARead() throws {
        #expect { try Fixture.manifest(Self.manifest(batch: Self.confirmedBatch + "}", read: false)) } throws: { error in
            guard let error = error as? ConfigError else { return false }
            return error.code == "config.missing" && error.message.contains("read")
        }
        #expect(throws: Never.self) { try Fixture.manifest(Self.manifest(batch: Self.confirmedBatch + "}", read: true)) }
    }

    static func manifest(batch: String, read: Bool) -> String {
        """
        name: people
        baseURL: https://crm.example.com
        list: {path: /people}
        mapping: {records: data, id: id, fields: {created_at: created}}
        \(read ? "read: {one: {path: \"/people/{{id}}\", record: data}}" : "")
        delete:
          mode: soft
          restorable: 30d
          batch: \(batch)
        """
    }
}
