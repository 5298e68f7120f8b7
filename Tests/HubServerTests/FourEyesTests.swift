import Foundation
import HTTPTypes
import HubServer
import Hummingbird
import HummingbirdTesting
import NIOCore
import RetentionCore
import RetentionStore
import RetentionTesting
import Testing

/// Approvals by operators through the admin API: the four-eyes rule and rejections.
struct FourEyesTests {
    static let due = (1...3).map { record(id: "d\($0)", created: "2019-01-01", purpose: "payment", email: "d\($0)@example.com") }
        + [record(id: "k1", created: "2026-01-01", purpose: "payment", email: "k1@example.com")]

    static func batchID(_ client: any TestClientProtocol) async throws -> String {
        try await client.execute(uri: "/api/sync/crm", method: .post, headers: AuthHarness.bearer(AuthHarness.kimToken)) { response in
            #expect(json(response)["awaitingApproval"] as? Int == 3)
            return json(response)["approvalBatch"] as? String ?? ""
        }
    }

    @Test func aLargeBatchNeedsTwoDifferentOperatorsAndNamesBoth() async throws {
        let harness = try AuthHarness(Self.due, twoPersonAbove: 2)
        try await harness.test { client in
            let batch = try await Self.batchID(client)
            let approve = "/api/approvals/\(batch)/approve"
            try await client.execute(uri: approve, method: .post, headers: AuthHarness.bearer(AuthHarness.kimToken)) { response in
                #expect(response.status == .ok)
                #expect(json(response)["status"] as? String == "open", "1 of 2: still waiting")
                #expect((json(response)["signoffs"] as? [[String: Any]])?.map { $0["operatorName"] as? String } == ["kim"])
            }
            try await client.execute(uri: approve, method: .post, headers: AuthHarness.bearer(AuthHarness.kimToken)) { response in
                #expect(response.status == .conflict)
                #expect(json(response)["error"] as? String == "same_operator")
            }
            try await client.execute(uri: "/api/sync/crm", method: .post, headers: AuthHarness.bearer(AuthHarness.kimToken)) { response in
                #expect(json(response)["deleted"] as? Int == 0, "one approval releases nothing")
                #expect(json(response)["awaitingApproval"] as? Int == 3)
            }
            // lee, signed in: the session must send its CSRF token.
            let session = try await AuthHarness.signIn(client, token: AuthHarness.leeToken)
            try await client.execute(uri: approve, method: .post, headers: AuthHarness.cookie(session)) { #expect($0.status == .forbidden) }
            #expect(try await harness.store.approvalBatches().first?.status == .open)
            let csrf = try #require(harness.hub.csrfToken(for: harness.hub.authenticate(AuthHarness.request("/", AuthHarness.cookie(session)))))
            try await client.execute(uri: approve, method: .post, headers: AuthHarness.cookie(session).adding([.init("X-CSRF-Token")!: csrf])) { response in
                #expect(response.status == .ok)
                #expect(json(response)["status"] as? String == "approved")
                #expect(json(response)["approvedBy"] as? String == "kim, lee")
            }
            try await client.execute(uri: "/api/sync/crm", method: .post, headers: AuthHarness.bearer(AuthHarness.kimToken)) { response in
                #expect(json(response)["deleted"] as? Int == 3)
            }
        }
        #expect(await harness.crm.record("d1") == nil)
        #expect(await harness.crm.record("k1") != nil)
        let audit = try await harness.store.auditEntries(after: 0, limit: 1000).map(\.draft)
        #expect(audit.first { $0.event == "approval.signed" }?.detail["operator"] == "kim")
        #expect(audit.first { $0.event == "approval.signed" }?.detail["approvals"] == "1 of 2")
        #expect(audit.first { $0.event == "approval.granted" }?.detail["operator"] == "kim, lee")
        let done = audit.filter { $0.event == "operation.done" && $0.detail["kind"] == "delete" }
        #expect(done.count == 3)
        #expect(done.allSatisfy { $0.detail["operator"] == "kim, lee" }, "the register's approver column names both")
    }

    @Test func aBatchAtOrBelowTheThresholdNeedsOneApproval() async throws {
        let harness = try AuthHarness(Self.due, twoPersonAbove: 3)
        try await harness.test { client in
            let batch = try await Self.batchID(client)
            try await client.execute(uri: "/api/approvals/\(batch)/approve", method: .post, headers: AuthHarness.bearer(AuthHarness.kimToken)) { response in
                #expect(json(response)["status"] as? String == "approved")
                #expect(json(response)["approvedBy"] as? String == "kim")
            }
        }
    }

    @Test func theAdminTokenCountsAsTheOperatorAdmin() async throws {
        let harness = try AuthHarness(Self.due, twoPersonAbove: 0)
        try await harness.test { client in
            let batch = try await Self.batchID(client)
            let approve = "/api/approvals/\(batch)/approve"
            try await client.execute(uri: approve, method: .post, headers: AuthHarness.bearer(AuthHarness.adminToken), body: ByteBuffer(string: #"{"by": "dpo"}"#)) {
                #expect(json($0)["status"] as? String == "open")
            }
            // A different stated name is still the admin token's holder.
            try await client.execute(uri: approve, method: .post, headers: AuthHarness.bearer(AuthHarness.adminToken), body: ByteBuffer(string: #"{"by": "someone else"}"#)) {
                #expect(json($0)["error"] as? String == "same_operator")
            }
            try await client.execute(uri: approve, method: .post, headers: AuthHarness.bearer(AuthHarness.leeToken)) { response in
                #expect(json(response)["approvedBy"] as? String == "api (admin token; stated: dpo), lee")
            }
        }
    }

    @Test func aRejectedBatchCancelsItsDeletesAndTheNextSyncAsksAgain() async throws {
        let harness = try AuthHarness(Self.due, twoPersonAbove: 2)
        try await harness.test { client in
            let batch = try await Self.batchID(client)
            try await client.execute(uri: "/api/approvals/\(batch)/approve", method: .post, headers: AuthHarness.bearer(AuthHarness.kimToken)) {
                #expect($0.status == .ok)
            }
            let reject = "/api/approvals/\(batch)/reject"
            for body in ["{}", #"{"reason": "  "}"#] {
                try await client.execute(uri: reject, method: .post, headers: AuthHarness.bearer(AuthHarness.leeToken), body: ByteBuffer(string: body)) {
                    #expect($0.status == .badRequest)
                }
            }
            try await client.execute(uri: "/api/approvals/nope-1/reject", method: .post, headers: AuthHarness.bearer(AuthHarness.leeToken),
                                     body: ByteBuffer(string: #"{"reason": "x"}"#)) { #expect($0.status == .notFound) }
            try await client.execute(uri: reject, method: .post, headers: AuthHarness.bearer(AuthHarness.leeToken),
                                     body: ByteBuffer(string: #"{"reason": "the export looked truncated"}"#)) { response in
                #expect(response.status == .ok)
                #expect(json(response)["status"] as? String == "rejected")
                #expect(json(response)["rejectedBy"] as? String == "lee")
            }
            try await client.execute(uri: "/api/approvals/\(batch)/approve", method: .post, headers: AuthHarness.bearer(AuthHarness.adminToken)) { response in
                #expect(response.status == .conflict)
                #expect(json(response)["error"] as? String == "rejected")
            }
            #expect(try await harness.store.operations(connector: "crm", statuses: [.pending, .awaitingApproval]).isEmpty, "cancelled, none pending")
            // The next sync decides the same deletes again and holds them in a new batch.
            try await client.execute(uri: "/api/sync/crm", method: .post, headers: AuthHarness.bearer(AuthHarness.kimToken)) { response in
                #expect(json(response)["deleted"] as? Int == 0)
                #expect(json(response)["awaitingApproval"] as? Int == 3)
                #expect(json(response)["approvalBatch"] as? String != batch)
            }
        }
        for id in ["d1", "d2", "d3"] { #expect(await harness.crm.record(id) != nil, "nothing was deleted") }
        let audit = try await harness.store.auditEntries(after: 0, limit: 1000).map(\.draft)
        let rejected = try #require(audit.first { $0.event == "approval.rejected" })
        #expect(rejected.detail["operator"] == "lee")
        #expect(rejected.detail["reason"] == "the export looked truncated")
        #expect(rejected.detail["operations"] == "3")
        #expect(audit.filter { $0.event == "operation.cancelled" && $0.detail["reason"] == "approval batch rejected" }.count == 3)
        #expect(!audit.contains { $0.event == "operation.done" })
        let batches = try await harness.store.approvalBatches()
        #expect(batches.map(\.status) == [.rejected, .open])
        #expect(batches.last?.deletes == 3)
    }

    @Test func anApprovalGivenBeforeTheBatchGrewNoLongerCounts() async throws {
        let harness = try AuthHarness(Self.due, twoPersonAbove: 2)
        try await harness.test { client in
            let batch = try await Self.batchID(client)
            try await client.execute(uri: "/api/approvals/\(batch)/approve", method: .post, headers: AuthHarness.bearer(AuthHarness.kimToken)) {
                #expect(json($0)["status"] as? String == "open")
            }
            // Two more records fall due (over the limit of 1): the next sync adds their deletes to the open batch.
            for id in ["d4", "d5"] { await harness.crm.upsert(record(id: id, created: "2019-01-01", purpose: "payment", email: "\(id)@example.com")) }
            try await client.execute(uri: "/api/sync/crm", method: .post, headers: AuthHarness.bearer(AuthHarness.kimToken)) { response in
                #expect(json(response)["awaitingApproval"] as? Int == 5)
                #expect(json(response)["approvalBatch"] as? String == batch)
            }
            try await client.execute(uri: "/api/approvals/\(batch)/approve", method: .post, headers: AuthHarness.bearer(AuthHarness.leeToken)) { response in
                #expect(json(response)["status"] as? String == "open", "kim approved 3 deletes, not 5: lee's is the first of two again")
                #expect((json(response)["signoffs"] as? [[String: Any]])?.map { $0["operatorName"] as? String } == ["lee"])
            }
            try await client.execute(uri: "/api/approvals/\(batch)/approve", method: .post, headers: AuthHarness.bearer(AuthHarness.kimToken)) { response in
                #expect(json(response)["status"] as? String == "approved")
                #expect(json(response)["approvedBy"] as? String == "lee, kim")
            }
        }
    }
}
