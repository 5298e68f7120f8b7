import Crypto
import Foundation
import Hummingbird
import NIOCore
import RetentionCore
import RetentionStore
import SyncCoordinator

/// `/api`: the admin API, behind an operator's bearer token (`LETHE_ADMIN_TOKEN` or a configured
/// operator's) or a sign-in session (`Hub+Auth.swift`). With neither an admin token nor operators
/// configured every call is refused (403), so an unconfigured daemon exposes nothing.
extension Hub {
    func addAdminRoutes(to router: Router<BasicRequestContext>) {
        let api = router.group("api").add(middleware: OperatorMiddleware(hub: self))
        api.get("status") { _, _ in try await self.status() }
        api.get("approvals") { _, _ in Self.json(.ok, ["batches": try await self.store.approvalBatches()]) }
        addApprovalRoutes(to: api)
        api.get("holds") { request, _ in
            Self.json(.ok, ["holds": try await self.store.holds(connector: request.uri.queryParameters.get("connector"))])
        }
        api.post("holds") { request, context in try await self.addHolds(request, context: context) }
        api.delete("holds/:connector/:id") { request, context in try await self.removeHold(request, context: context) }
        api.post("retry") { request, context in try await self.retry(request, context: context) }
        api.post("sync/:connector") { request, context in try await self.triggerSync(request, context: context) }
        api.get("plan") { request, _ in try await self.plan(request) }
    }

    struct StatusBody: Encodable {
        var records: [String: [String: Int]]
        var operations: [String: [String: Int]]
        var openBatches: [ApprovalBatch]
        var holds: Int
        var auditEntries: Int64
        var overdue: [String: Int]
        var running: [String]
        var pendingWebhookEvents: [String: Int]
        /// Events whose processing failed every attempt: kept and counted, never processed again.
        var deadWebhookEvents: [String: Int]
        /// Records or erased fields seen again after Lethe destroyed them (each enforced again).
        var reappeared: [String: Int]
    }

    func status() async throws -> Response {
        Self.json(.ok, try await statusBody())
    }

    /// What `/api/status` answers (and the dashboard shows): the store's counts, overdue destructions
    /// per connector (expiry + `destroyWithin` passed, still live), webhook events, running connectors.
    func statusBody() async throws -> StatusBody {
        let counts = try await store.statusCounts()
        var overdue: [String: Int] = [:]
        var pending: [String: Int] = [:]
        var dead: [String: Int] = [:]
        let now = clock.now()
        for (name, connector) in connectors {
            let policy = connector.runtime.policy
            overdue[name] = try await store.overdueCount(connector: name, policy: policy, now: now)
            (pending[name], dead[name]) = try await store.webhookEventCounts(connector: name)
        }
        return StatusBody(
            records: counts.records, operations: counts.operations, openBatches: counts.openBatches, holds: counts.holds,
            auditEntries: counts.auditEntries, overdue: overdue, running: await locks.running.sorted(), pendingWebhookEvents: pending,
            deadWebhookEvents: dead, reappeared: counts.reappeared)
    }

    struct PlanBody: Encodable {
        var asOf: Date
        var horizon: String
        var counts: [String: Int]
        var events: [Planner.Event]
    }

    /// What will happen within `horizon` (default 30d), from the state (no source is read): the same
    /// plan as `lethe plan`, as of the last sync of each record.
    func plan(_ request: Request) async throws -> Response {
        let horizonText = request.uri.queryParameters.get("horizon") ?? "30d"
        guard let horizon = Period(parsing: horizonText) else {
            return Self.error(.badRequest, "bad_horizon", "horizon is a period such as 30d or 6m, at most 1000y")
        }
        let only = request.uri.queryParameters.get("connector")
        if let only, connectors[only] == nil { return Self.error(.notFound, "unknown_connector", "no such connector") }
        let now = clock.now()
        let events = try await planEvents(connector: only, horizon: horizon, now: now)
        let counts = Dictionary(grouping: events, by: \.kind).mapValues(\.count)
        return Self.json(.ok, PlanBody(asOf: now, horizon: horizon.description, counts: counts, events: events))
    }

    /// The plan of every connector (or only one) from `now` to `now + horizon`, by date: what
    /// `/api/plan` lists and the dashboard's expiry calendar counts.
    func planEvents(connector only: String?, horizon: Period, now: Date) async throws -> [Planner.Event] {
        var events: [Planner.Event] = []
        for name in connectors.keys.sorted() where only == nil || only == name {
            guard let connector = connectors[name] else { continue }
            events += try await Planner(policy: connector.runtime.policy, now: now, horizon: horizon).events(connector: name, store: store)
        }
        events.sort { ($0.date, $0.kind, $0.reference ?? "") < ($1.date, $1.kind, $1.reference ?? "") }
        return events
    }

    struct OperatorBody: Decodable { var by: String? }

    /// Who an admin API call is, for the audit log and the register: the holder of the admin token —
    /// the only thing the call proved. A `by` in the body is kept beside it as what the caller stated.
    static func apiOperator(stated: String?) -> String {
        let stated = (stated ?? "").filter { !$0.isNewline && $0 != "\u{1F}" }.prefix(80)
        return stated.isEmpty ? "api (admin token)" : "api (admin token; stated: \(stated))"
    }

    /// Approves an open batch (its deletes go to `pending`): the admin API's and the dashboard's approval.
    func approveBatch(_ batch: String, by operator: String) async throws -> ApprovalBatch {
        let known = try await store.approvalBatches()
        guard let found = known.first(where: { $0.id == batch }) else {
            throw AdminRefusal(.notFound, "unknown_batch", "no approval batch '\(batch.prefix(40))'")
        }
        guard found.status != .approved else { throw AdminRefusal(.conflict, "already_approved", "the batch is already approved") }
        // A stated name: one approval suffices only where the four-eyes rule does not apply.
        return try await store.approve(batch: batch, as: .stated(`operator`), twoPersonAbove: configuration.twoPersonAbove, at: clock.now())
    }

    struct HoldBody: Decodable {
        var connector: String
        var ids: [String]
        var reason: String
        var by: String?
    }

    func addHolds(_ request: Request, context: BasicRequestContext) async throws -> Response {
        guard let body = try? await request.decode(as: HoldBody.self, context: context) else {
            return Self.error(.badRequest, "bad_request", "expected {connector, ids: [..], reason, by?}")
        }
        return try await Self.answer {
            ["added": try await self.placeHolds(connector: body.connector, ids: body.ids, reason: body.reason, by: self.operatorLabel(request, stated: body.by))]
        }
    }

    /// Puts the records with these source ids on legal hold; returns how many were not held yet.
    func placeHolds(connector: String, ids: [String], reason: String, by operator: String) async throws -> Int {
        guard !ids.isEmpty, !reason.isEmpty else { throw AdminRefusal(.badRequest, "bad_request", "expected {connector, ids: [..], reason, by?}") }
        guard connectors[connector] != nil else { throw AdminRefusal(.notFound, "unknown_connector", "no such connector") }
        var added = 0
        for id in ids {
            let reference = try await store.knownReference(connector: connector, recordID: id)
            if try await store.addHold(connector: connector, reference: reference, reason: reason, by: `operator`, at: clock.now()) {
                added += 1
            }
        }
        return added
    }

    func removeHold(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let connector = context.parameters.get("connector") ?? ""
        let id = context.parameters.get("id") ?? ""
        guard connectors[connector] != nil else { return Self.error(.notFound, "unknown_connector", "no such connector") }
        let reference = try await store.knownReference(connector: connector, recordID: id)
        return try await Self.answer {
            try await self.liftHold(
                connector: connector, reference: reference, reason: (request.uri.queryParameters.get("reason") ?? "").trimmingCharacters(in: .whitespacesAndNewlines),
                by: self.operatorLabel(request, stated: nil))
            return ["removed": 1]
        }
    }

    /// Lifts the legal hold of a record (by its reference); the reason goes to the audit entry.
    func liftHold(connector: String, reference: String, reason: String, by operator: String) async throws {
        guard connectors[connector] != nil else { throw AdminRefusal(.notFound, "unknown_connector", "no such connector") }
        guard try await store.removeHold(connector: connector, reference: reference, reason: reason, by: `operator`, at: clock.now()) else {
            throw AdminRefusal(.notFound, "no_hold", "the record is not on hold")
        }
    }

    struct RetryBody: Decodable {
        var ids: [String]?
        var all: Bool?
        var by: String?
    }

    func retry(_ request: Request, context: BasicRequestContext) async throws -> Response {
        guard let body = try? await request.decode(as: RetryBody.self, context: context) else {
            return Self.error(.badRequest, "bad_request", "expected {ids: [..]} or {all: true}")
        }
        return try await Self.answer {
            ["retried": try await self.retryDeadOperations(ids: body.all == true ? nil : (body.ids ?? []), by: self.operatorLabel(request, stated: body.by))]
        }
    }

    /// Puts dead operations back to pending (`nil`: all of them); returns their ids.
    func retryDeadOperations(ids: [String]?, by operator: String) async throws -> [String] {
        if let ids, ids.isEmpty { throw AdminRefusal(.badRequest, "bad_request", "expected {ids: [..]} or {all: true}") }
        return try await store.retryDead(ids: ids, by: `operator`, at: clock.now())
    }

    /// The JSON answer of an admin action: its result, or the refusal it threw.
    static func answer(_ action: () async throws -> some Encodable) async throws -> Response {
        do {
            return json(.ok, try await action())
        } catch let refusal as AdminRefusal {
            return error(refusal.status, refusal.code, refusal.message)
        }
    }

    func triggerSync(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let name = context.parameters.get("connector") ?? ""
        guard connectors[name] != nil else { return Self.error(.notFound, "unknown_connector", "no such connector") }
        let incremental = request.uri.queryParameters.get("incremental") == "true"
        do {
            guard let summary = try await sync(name, incremental: incremental) else {
                return Self.error(.conflict, "running", "the connector is running; try again later")
            }
            return Self.json(.ok, summary)
        } catch {
            let code = (error as? any LetheError)?.code ?? "sync_failed"
            return Self.error(.badGateway, code, (error as? any LetheError)?.message ?? "the sync failed")
        }
    }
}

/// Why an admin action was refused (bad input, unknown target, a conflict): a JSON error for the
/// API, a message for the dashboard. Nothing was changed.
struct AdminRefusal: Error, Sendable {
    var status: HTTPResponse.Status
    var code: String
    var message: String

    init(_ status: HTTPResponse.Status, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }
}

/// Bearer-token check (`/api`, `/metrics`), in constant time. No configured token: the answer
/// `unset` gives for everything (403 for the admin API, 404 for the metrics).
struct BearerTokenMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let token: String?
    let unset: @Sendable () -> Response

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let token else { return unset() }
        guard Self.presents(token, request) else {
            var response = Hub.error(.unauthorized, "unauthorized", "a valid bearer token is required")
            response.headers[.wwwAuthenticate] = "Bearer"
            return response
        }
        return try await next(request, context)
    }
}

extension BearerTokenMiddleware {
    /// The request carries `Authorization: Bearer <token>`, compared in constant time.
    static func presents(_ token: String, _ request: Request) -> Bool {
        let header = request.headers[.authorization] ?? ""
        let presented = header.hasPrefix("Bearer ") ? String(header.dropFirst(7)) : ""
        // Compare digests: equal length, no early exit on the first differing byte.
        let matches = ConstantTime.isEqual(Data(SHA256.hash(data: Data(token.utf8))), Data(SHA256.hash(data: Data(presented.utf8))))
        return matches && !presented.isEmpty
    }
}
