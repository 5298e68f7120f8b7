import Foundation
@testable import RESTCRMConnector
import RetentionCore
import Synchronization
import Testing

/// Salesforce's permanent delete: a Bulk API 2.0 `hardDelete` ingest job (`delete.job` in permanent
/// mode). A record is destroyed only when the job's results confirm it.
struct BulkHardDeleteTests {
    static let jobs = "/services/data/v60.0/jobs/ingest"

    /// The shipped Salesforce manifest in permanent mode, polling every few milliseconds.
    static func permanent(poll: String = "{initial: 5ms, max: 20ms, timeout: 10m}") throws -> Manifest {
        var yaml = try String(contentsOf: Fixture.repository.appendingPathComponent("config/connectors/salesforce.yaml"), encoding: .utf8)
        let shipped = yaml.range(of: "poll: {initial: 1s, max: 15s, timeout: 10m}")!
        yaml.replaceSubrange(shipped, with: "poll: \(poll)")
        return try Fixture.manifest(yaml, environment: Fixture.environment.merging(["SALESFORCE_DELETE_MODE": "permanent"]) { $1 })
    }

    static func csv(_ text: String) -> HTTPResult {
        HTTPResult(status: 200, headers: [(name: "Content-Type", value: "text/csv")], body: Data(text.utf8))
    }

    /// A Salesforce that runs job 750x: `states` answered to the status checks in turn (the last one
    /// repeated), then the two result files.
    static func salesforce(states: [String], succeeded: String = "\"sf__Id\",\"sf__Created\",\"Id\"\n",
                           failed: String = "\"sf__Id\",\"sf__Error\",\"Id\"\n") -> ScriptedTransport {
        let checks = Counter()
        return ScriptedTransport { request in
            switch (request.method, request.path) {
            case ("POST", jobs): return Fixture.json(["id": "750x", "state": "Open", "operation": "hardDelete", "object": "Contact"])
            case ("PUT", "\(jobs)/750x/batches"): return HTTPResult(status: 201)
            case ("PATCH", "\(jobs)/750x"): return Fixture.json(["id": "750x", "state": "UploadComplete"])
            case ("GET", "\(jobs)/750x"):
                return Fixture.json(["id": "750x", "state": states[min(checks.next(), states.count - 1)]])
            case ("GET", "\(jobs)/750x/successfulResults/"): return csv(succeeded)
            case ("GET", "\(jobs)/750x/failedResults/"): return csv(failed)
            default: return Fixture.json([["errorCode": "NOT_FOUND", "message": "The requested resource does not exist"]], status: 404)
            }
        }
    }

    static func deletes(_ ids: [String]) -> [WriteOperation] {
        ids.enumerated().map { WriteOperation(id: "op\($0.offset)", kind: .delete, recordID: $0.element) }
    }

    @Test func aJobIsCreatedFedClosedPolledAndReadAsSalesforceDocumentsIt() async throws {
        let transport = Self.salesforce(states: ["InProgress", "InProgress", "JobComplete"],
                                        succeeded: "\"sf__Id\",\"sf__Created\",\"Id\"\n\"003A\",\"false\",\"003A\"\n")
        let outcomes = try await Fixture.connector(try Self.permanent(), transport).apply(Self.deletes(["003A"]))
        let requests = transport.requests
        try #require(requests.count == 8, "\(requests.map(\.path))")
        #expect(requests.map { "\($0.method) \($0.path)" } == [
            "POST \(Self.jobs)", "PUT \(Self.jobs)/750x/batches", "PATCH \(Self.jobs)/750x",
            "GET \(Self.jobs)/750x", "GET \(Self.jobs)/750x", "GET \(Self.jobs)/750x",
            "GET \(Self.jobs)/750x/successfulResults/", "GET \(Self.jobs)/750x/failedResults/",
        ])
        let create = Fixture.body(requests[0])
        #expect(create as NSDictionary == ["object": "Contact", "operation": "hardDelete", "contentType": "CSV", "lineEnding": "LF"] as NSDictionary)
        #expect(String(decoding: requests[1].body ?? Data(), as: UTF8.self) == "Id\n003A\n")
        #expect(requests[1].headers.contains { $0.name == "Content-Type" && $0.value == "text/csv" })
        #expect(Fixture.body(requests[2])["state"] as? String == "UploadComplete")
        #expect(requests[6].headers.contains { $0.name == "Accept" && $0.value == "text/csv" })
        guard case .deleted(let receipt) = outcomes[0] else { Issue.record("expected deleted: \(outcomes[0])"); return }
        #expect(receipt == DeletionReceipt(mode: .permanent, method: "hard delete (Bulk API 2.0)"))
    }

    @Test func eachRecordGetsTheVerdictOfItsOwnResultRow() async throws {
        let transport = Self.salesforce(
            states: ["JobComplete"],
            succeeded: "\"sf__Id\",\"sf__Created\",\"Id\"\n\"003A\",\"false\",\"003A\"\n",
            failed: """
                "sf__Id","sf__Error","Id"
                "","ENTITY_IS_DELETED:entity is deleted:--","003B"
                "","INVALID_CROSS_REFERENCE_KEY:invalid cross reference id:--","003C"
                "003D","UNABLE_TO_LOCK_ROW:unable to obtain exclusive access to this record, a value with ""quotes"", and a comma:--","003D"
                "003F","INSUFFICIENT_ACCESS_OR_READONLY:insufficient access rights on object id:--","003F"

                """)
        let ids = ["003A", "003B", "003C", "003D", "003E", "003F"]
        let outcomes = try await Fixture.connector(try Self.permanent(), transport).apply(Self.deletes(ids))
        guard case .deleted = outcomes[0] else { Issue.record("003A: \(outcomes[0])"); return }
        guard case .alreadyGone = outcomes[1] else { Issue.record("003B, in the Recycle Bin: \(outcomes[1])"); return }
        guard case .alreadyGone = outcomes[2] else { Issue.record("003C, no longer there: \(outcomes[2])"); return }
        guard case .failed(let locked) = outcomes[3], case .failed(let missing) = outcomes[4], case .failed(let refused) = outcomes[5] else {
            Issue.record("003D, 003E and 003F must fail: \(outcomes[3]), \(outcomes[4]), \(outcomes[5])"); return
        }
        #expect(locked.code == "rest.item_failed" && locked.isTransient, "a passing lock (errors.transient): retried")
        #expect(locked.message.contains("UNABLE_TO_LOCK_ROW") && !locked.message.contains("exclusive access"), "the code, never the text")
        #expect(refused.code == "rest.item_failed" && !refused.isTransient)
        #expect(refused.message.contains("INSUFFICIENT_ACCESS_OR_READONLY") && !refused.message.contains("rights"))
        #expect(missing.code == "rest.item_missing" && missing.isTransient, "in neither file: unconfirmed, retried")
    }

    @Test(arguments: [("Failed", "rest.job_failed", true), ("Aborted", "rest.job_aborted", false)])
    func aJobThatEndsAsAWholeWithoutCompletingIsNoVerdictOnItsRecords(state: String, code: String, transient: Bool) async throws {
        let transport = Self.salesforce(states: ["InProgress", state],
                                        succeeded: "\"sf__Id\",\"sf__Created\",\"Id\"\n\"003A\",\"false\",\"003A\"\n")
        let outcomes = try await Fixture.connector(try Self.permanent(), transport).apply(Self.deletes(["003A", "003B"]))
        for outcome in outcomes {
            guard case .failed(let failure) = outcome else { Issue.record("a \(state) job completed a delete: \(outcome)"); continue }
            #expect(failure.code == code)
            #expect(failure.isTransient == transient)
        }
        #expect(!transport.requests.contains { $0.path.hasSuffix("Results/") }, "its results are not read")
    }

    @Test func aJobStillRunningAtTheTimeoutFailsItsRecordsForALaterRun() async throws {
        let transport = Self.salesforce(states: ["InProgress"])
        let manifest = try Self.permanent(poll: "{initial: 5ms, max: 5ms, timeout: 60ms}")
        let outcomes = try await Fixture.connector(manifest, transport).apply(Self.deletes(["003A"]))
        guard case .failed(let failure) = outcomes[0] else { Issue.record("expected a failure: \(outcomes[0])"); return }
        #expect(failure.code == "rest.job_pending" && failure.isTransient)
        #expect(transport.requests.filter { $0.method == "GET" }.count >= 2, "polled again after a wait")
    }

    @Test(.timeLimit(.minutes(1))) func cancellationEndsTheWaitAtOnce() async throws {
        // The first status check says InProgress; the next one would come after five minutes.
        let transport = Self.salesforce(states: ["InProgress"])
        let connector = Fixture.connector(try Self.permanent(poll: "{initial: 5m, max: 5m, timeout: 10m}"), transport)
        let task = Task { try await connector.apply(Self.deletes(["003A"])) }
        while !transport.requests.contains(where: { $0.method == "GET" }) { try await Task.sleep(for: .milliseconds(10)) }
        let cancelled = ContinuousClock.now
        task.cancel()
        let outcomes = try await task.value
        #expect(ContinuousClock.now - cancelled < .seconds(60), "the five-minute wait was left")
        #expect(transport.requests.filter { $0.method == "GET" }.count == 1)
        guard case .failed(let failure) = outcomes[0] else { Issue.record("expected a failure: \(outcomes[0])"); return }
        #expect(failure.isTransient)
    }

    @Test func aJobSalesforceRefusesFailsEveryIdAndUploadsNothing() async throws {
        // Without the "Bulk API Hard Delete" permission the job is not created.
        let transport = ScriptedTransport { _ in
            Fixture.json([["errorCode": "FEATURENOTENABLED", "message": "hardDelete operation requires special user profile permission"]], status: 400)
        }
        let outcomes = try await Fixture.connector(try Self.permanent(), transport).apply(Self.deletes(["003A", "003B"]))
        for outcome in outcomes {
            guard case .failed(let failure) = outcome else { Issue.record("expected a failure: \(outcome)"); continue }
            #expect(failure.code == "rest.http_400" && !failure.isTransient)
        }
        #expect(transport.requests.count == 1)
    }

    @Test func aFailedUploadAbortsTheOpenJob() async throws {
        let transport = ScriptedTransport { request in
            switch request.method {
            case "POST": return Fixture.json(["id": "750x", "state": "Open"])
            case "PUT": return Fixture.json([["errorCode": "UNSUPPORTED_MEDIA_TYPE", "message": "Unsupported Media Type"]], status: 415)
            default: return Fixture.json(["id": "750x", "state": "Aborted"])
            }
        }
        let outcomes = try await Fixture.connector(try Self.permanent(), transport).apply(Self.deletes(["003A"]))
        guard case .failed = outcomes[0] else { Issue.record("expected a failure: \(outcomes[0])"); return }
        let last = transport.requests.last!
        #expect(last.method == "PATCH" && Fixture.body(last)["state"] as? String == "Aborted")
    }

    @Test func theShippedManifestStaysSoftUnlessTheSettingAsksForPermanent() async throws {
        let soft = try Fixture.shipped("salesforce")
        #expect(soft.delete?.mode == .soft)
        let transport = ScriptedTransport { _ in Fixture.json([["id": "003A", "success": true, "errors": []]]) }
        let outcomes = try await Fixture.connector(soft, transport).apply(Self.deletes(["003A"]))
        guard case .deleted(let receipt) = outcomes[0] else { Issue.record("expected deleted: \(outcomes[0])"); return }
        #expect(receipt.mode == .soft && receipt.method == nil)
        #expect(transport.requests.map(\.path) == ["/services/data/v60.0/composite/sobjects"])
        let permanent = try Fixture.shipped("salesforce", environment: Fixture.environment.merging(["SALESFORCE_DELETE_MODE": "permanent"]) { $1 })
        #expect(permanent.delete?.mode == .permanent)
        #expect(permanent.delete?.job?.operation == "hardDelete")
    }

    @Test(arguments: [
        ("mode: permanent\n  job: {type: salesforce-bulk-2.0, path: /jobs/ingest, object: Contact, operation: delete}", "config.choice"),
        ("mode: permanent\n  job: {path: /jobs/ingest, object: Contact}", "config.missing"),
        ("mode: permanent\n  job: {type: bulk, path: /jobs/ingest, object: Contact}", "config.choice"),
        ("mode: soft\n  restorable: 15d\n  job: {type: salesforce-bulk-2.0, path: /jobs/ingest, object: Contact}", "config.missing"),
    ])
    func aJobIsDeclaredCompletely(delete: String, code: String) throws {
        let yaml = """
            name: t
            baseURL: http://127.0.0.1:1
            list: {path: /list}
            mapping: {records: records, id: Id, fields: {created_at: CreatedDate}}
            delete:
              \(delete)

            """
        #expect { try Fixture.manifest(yaml) } throws: { ($0 as? ConfigError)?.code == code }
    }

    @Test func aPermanentJobAloneIsAValidDelete() throws {
        let manifest = try Fixture.manifest("""
            name: t
            baseURL: http://127.0.0.1:1
            list: {path: /list}
            mapping: {records: records, id: Id, fields: {created_at: CreatedDate}}
            delete:
              mode: permanent
              job: {type: salesforce-bulk-2.0, path: /services/data/v60.0/jobs/ingest/, object: Lead, max: 500}

            """)
        #expect(manifest.delete?.job?.path == "/services/data/v60.0/jobs/ingest")
        #expect(manifest.delete?.job?.max == 500)
        #expect(manifest.delete?.job?.gone == ["ENTITY_IS_DELETED", "INVALID_CROSS_REFERENCE_KEY"])
    }

    @Test func resultFilesAreReadAsRFC4180() {
        let table = CSVRows(Data("\u{FEFF}\"sf__Id\",\"sf__Error\",Id\r\n\"\",\"A:b, \"\"c\"\"\nd:--\",003A\r\n".utf8))
        #expect(table.header == ["sf__Id", "sf__Error", "Id"])
        #expect(table.rows == [["", "A:b, \"c\"\nd:--", "003A"]])
        #expect(CSVRows(Data()).rows.isEmpty)
        #expect(String(decoding: RESTCRMConnector.csv(["003A", "a,b"]), as: UTF8.self) == "Id\n003A\n\"a,b\"\n")
    }
}

/// A thread-safe counter for scripted answers that change from one call to the next.
final class Counter: Sendable {
    private let value = Mutex<Int>(0)

    func next() -> Int {
        value.withLock { current in
            defer { current += 1 }
            return current
        }
    }
}
