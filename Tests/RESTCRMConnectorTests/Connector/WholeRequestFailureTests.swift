import Foundation
@testable import RESTCRMConnector
import RetentionCore
import Testing

/// Gone is a per-record fact: a request about several ids that fails as a whole is a failure of that
/// request, never a verdict on its ids.
struct WholeRequestFailureTests {
    @Test(arguments: ["hubspot", "salesforce"])
    func aBatchReadAnsweredWith404AsAWholeFailsInsteadOfReportingEveryIdGone(provider: String) async throws {
        let transport = ScriptedTransport { _ in Fixture.json(["message": "The requested resource does not exist", "errorCode": "NOT_FOUND"], status: 404) }
        let connector = Fixture.connector(try Fixture.shipped(provider), transport)
        await #expect(throws: RESTCRMConnectorError.self) {
            _ = try await connector.read(ids: ["1001", "1002", "1003"])
        }
        let error = try? await { () async throws -> RESTCRMConnectorError? in
            do { _ = try await connector.read(ids: ["1001"]) } catch let failure as RESTCRMConnectorError { return failure }
            return nil
        }()
        #expect(error?.code == "rest.http_404")
        #expect(error?.isTransient == false)
    }

    @Test func aSingleReadAnswered404IsThatRecordGone() async throws {
        let transport = ScriptedTransport { _ in Fixture.json(["status": "error", "category": "OBJECT_NOT_FOUND"], status: 404) }
        var manifest = try Fixture.shipped("hubspot")
        manifest.readBatch = nil
        let records = try await Fixture.connector(manifest, transport).read(ids: ["1001", "1002"])
        #expect(records.isEmpty)
        #expect(transport.requests.count == 2, "one read per id")
    }

    @Test func hubspotBatchReadSendsPropertiesWithHistory() async throws {
        let transport = ScriptedTransport { _ in Fixture.json(["status": "COMPLETE", "results": []]) }
        _ = try await Fixture.connector(try Fixture.shipped("hubspot"), transport).read(ids: ["1001"])
        let body = Fixture.body(transport.requests[0])
        #expect(body["propertiesWithHistory"] as? [Any] != nil, "HubSpot's schema lists it as required")
        #expect((body["properties"] as? [String])?.contains("createdate") == true)
        #expect((body["inputs"] as? [[String: String]]) == [["id": "1001"]])
    }

    /// A permanent-mode purge that names several ids in one request: a 404 for the whole request
    /// (a wrong route) must not complete the deletes.
    @Test func aPurgeOfSeveralIdsAnswered404FailsEveryId() async throws {
        var yaml = try String(contentsOf: Fixture.repository.appendingPathComponent("config/connectors/hubspot.yaml"), encoding: .utf8)
        let start = yaml.range(of: "delete:\n  mode: soft")!.lowerBound
        let end = yaml.range(of: "# Erasure and extension")!.lowerBound
        yaml.replaceSubrange(start..<end, with: """
            delete:
              mode: permanent
              one: {method: DELETE, path: "/crm/v3/objects/contacts/{{id}}"}
              purge: {method: POST, path: /crm/v3/objects/contacts/purge, body: '{"ids": "{{ids}}"}'}

            """)
        let manifest = try Fixture.manifest(yaml, environment: Fixture.environment)
        let transport = ScriptedTransport { request in
            request.path.hasSuffix("/purge") ? Fixture.json(["message": "not found"], status: 404) : HTTPResult(status: 204)
        }
        let outcomes = try await Fixture.connector(manifest, transport).apply([
            WriteOperation(id: "a", kind: .delete, recordID: "1"), WriteOperation(id: "b", kind: .delete, recordID: "2"),
        ])
        for outcome in outcomes {
            guard case .failed(let failure) = outcome else { Issue.record("a whole-request 404 completed a delete: \(outcome)"); continue }
            #expect(failure.code == "rest.http_404")
        }
    }

    @Test func aPerIdPurgeAnswered404IsThatRecordAlreadyPurged() async throws {
        var yaml = try String(contentsOf: Fixture.repository.appendingPathComponent("config/connectors/hubspot.yaml"), encoding: .utf8)
        let start = yaml.range(of: "delete:\n  mode: soft")!.lowerBound
        let end = yaml.range(of: "# Erasure and extension")!.lowerBound
        yaml.replaceSubrange(start..<end, with: """
            delete:
              mode: permanent
              one: {method: DELETE, path: "/crm/v3/objects/contacts/{{id}}"}
              purge: {method: DELETE, path: "/crm/v3/objects/contacts/{{id}}/purge"}

            """)
        let manifest = try Fixture.manifest(yaml, environment: Fixture.environment)
        let transport = ScriptedTransport { request in
            request.path.hasSuffix("/purge") ? Fixture.json(["message": "not found"], status: 404) : HTTPResult(status: 204)
        }
        let outcomes = try await Fixture.connector(manifest, transport).apply([WriteOperation(id: "a", kind: .delete, recordID: "1")])
        guard case .deleted(let receipt) = outcomes[0] else { Issue.record("expected deleted: \(outcomes[0])"); return }
        #expect(receipt.mode == .permanent)
    }
}
