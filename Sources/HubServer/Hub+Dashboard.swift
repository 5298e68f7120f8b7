import Foundation
import Hummingbird
import NIOCore
import RetentionCore
import RetentionStore
import SyncCoordinator

/// The web dashboard (`/`, `/approvals`, `/holds`, `/dead`, `/audit`, `/quarantine`, `/whatif`): server-rendered
/// HTML from templates (PageTemplates), in Korean or English, readable without script. Every page
/// shows references, counts, codes and dates only — never a field of a record. Who may see it is
/// decided in one place, `dashboardAccess(_:)`.
extension Hub {
    func addDashboardRoutes(to router: Router<BasicRequestContext>) {
        router.get("/") { request, _ in await self.dashboard(.overview, request) { try await self.overviewContext($0) } }
        router.get("/approvals") { request, _ in await self.dashboard(.approvals, request) { try await self.approvalsContext($0) } }
        router.get("/holds") { request, _ in await self.dashboard(.holds, request) { try await self.holdsContext($0) } }
        router.get("/dead") { request, _ in await self.dashboard(.dead, request) { try await self.deadContext($0) } }
        router.get("/audit") { request, _ in await self.dashboard(.audit, request) { try await self.auditContext($0) } }
        router.get("/quarantine") { request, _ in await self.dashboard(.quarantine, request) { try await self.quarantineContext($0) } }
        addDashboardActions(to: router)
        addWhatIfRoutes(to: router)
    }

    /// Who a dashboard request comes from.
    enum DashboardAccess: Sendable, Equatable {
        /// Authenticated: the name the audit log gives the operator, and the CSRF token its forms must
        /// carry (nil when the credential cannot be sent by a browser on its own, as a bearer token).
        case granted(operator: String, csrf: String?)
        /// No or a wrong credential: 401, a page with no data.
        case anonymous
        /// No admin token configured: 403, the dashboard is off.
        case disabled
    }

    /// The one decision of who may see and use the dashboard, from `authenticate(_:)` (Hub+Auth):
    /// a bearer token (`LETHE_ADMIN_TOKEN` or an operator's) or a sign-in session, whose forms must
    /// carry its CSRF token. The audit log names an operator by name, the admin token's holder
    /// `dashboard (admin token)`.
    func dashboardAccess(_ request: Request) -> DashboardAccess {
        let principal = authenticate(request)
        switch principal {
        case .disabled: return .disabled
        case .anonymous: return .anonymous
        case .signedIn(let name, _):
            return .granted(operator: name == HubOperator.adminName ? "dashboard (admin token)" : name, csrf: csrfToken(for: principal))
        }
    }

    /// Who a dashboard page or form acts for, or the page (401 or 403, no data) that refuses the request.
    func dashboardGrant(_ request: Request, _ view: DashboardView) -> Result<(name: String, csrf: String?), RefusedPage> {
        switch dashboardAccess(request) {
        case .disabled: .failure(RefusedPage(response: refusal(.forbidden, view, request: request)))
        case .anonymous: .failure(RefusedPage(response: refusal(.unauthorized, view, request: request)))
        case .granted(let name, let csrf): .success((name, csrf))
        }
    }

    /// A refusal page, carried as a `Result`'s failure.
    struct RefusedPage: Error {
        var response: Response
    }

    /// The zone dates are shown in: the policy's (the first connector's when they differ), else Seoul.
    var displayZone: TimeZone {
        connectors.keys.sorted().first.flatMap { connectors[$0]?.runtime.policy.zone } ?? TimeZone(identifier: "Asia/Seoul") ?? .gmt
    }

    /// Renders a page for an authenticated request; 401 or 403 pages (with no data) otherwise.
    func dashboard(_ page: DashboardPage, _ request: Request, _ build: (DashboardView) async throws -> [String: Any]) async -> Response {
        let view = DashboardView(request: request, zone: displayZone, now: clock.now())
        let (name, csrf): (String, String?)
        switch dashboardGrant(request, view) {
        case .failure(let refused): return refused.response
        case .success(let granted): (name, csrf) = granted
        }
        do {
            var context = view.base(page, request: request, operator: name, csrf: csrf)
            context["session"] = csrf != nil
            context.merge(try await build(view)) { _, new in new }
            return view.response(.ok, PageTemplates.render(page.rawValue, context))
        } catch {
            log(.error, "dashboard page failed", ["page": page.rawValue, "code": (error as? any LetheError)?.code ?? "\(type(of: error))"])
            return Self.error(.serviceUnavailable, "store_unavailable", "the state could not be read; try again later")
        }
    }

    /// 403 (off), 401 (a browser gets the sign-in page, anything else a page saying how to
    /// authenticate), or 403 for a form without its CSRF token: never any data.
    func refusal(_ status: HTTPResponse.Status, _ view: DashboardView, request: Request, csrf: Bool = false) -> Response {
        if status == .unauthorized, (request.headers[.accept] ?? "").contains("text/html"), let page = refusal(for: .anonymous, request) {
            return page
        }
        let key = csrf ? "csrf" : status == .forbidden ? "forbidden" : "unauthorized"
        let context: [String: Any] = ["lang": view.language == .en ? "en" : "ko", "title": view.text("\(key)_title"), "text": view.text("\(key)_text")]
        var response = view.response(status, PageTemplates.render("refusal", context))
        if status == .unauthorized { response.headers[.wwwAuthenticate] = "Bearer" }
        return response
    }

    // MARK: Pages

    func overviewContext(_ view: DashboardView) async throws -> [String: Any] {
        let status = try await statusBody()
        let names = Set(connectors.keys).union(status.records.keys).sorted()
        let known = RecordPhase.allCases.map(\.rawValue)
        let phases = known + Set(status.records.values.flatMap(\.keys)).subtracting(known).sorted()
        let rows: [[String: Any]] = phases.compactMap { phase in
            let counts = names.map { status.records[$0]?[phase] ?? 0 }
            let total = counts.reduce(0, +)
            guard total > 0 else { return nil }
            return [
                "state": phase, "label": view.texts["phase_\(phase)"] ?? phase, "total": total,
                "cells": zip(names, counts).map { ["connector": $0, "state": phase, "count": $1] as [String: Any] },
            ]
        }
        let overdueTotal = status.overdue.values.reduce(0, +)
        let overdueRows: [[String: Any]] = connectors.keys.sorted().map { name in
            let within = connectors[name].map { view.period($0.runtime.policy.destroyWithin) } ?? ""
            return ["connector": name, "count": status.overdue[name] ?? 0, "late": (status.overdue[name] ?? 0) > 0, "target": view.text("overdue_target_text", ["period": within])]
        }
        let dead = status.operations.values.flatMap { $0 }.filter { $0.key.hasSuffix("/dead") }.reduce(0) { $0 + $1.value }
        let quarantined = status.records.values.reduce(0) { $0 + ($1[RecordPhase.quarantined.rawValue] ?? 0) }
        let cards: [[String: Any]] = [
            ["key": "approvals", "href": "/approvals", "count": status.openBatches.count, "label": view.text("card_approvals"), "alert": !status.openBatches.isEmpty],
            ["key": "overdue", "href": "/#s-overdue", "count": overdueTotal, "label": view.text("card_overdue"), "alert": overdueTotal > 0],
            ["key": "dead", "href": "/dead", "count": dead, "label": view.text("card_dead"), "alert": dead > 0],
            ["key": "holds", "href": "/holds", "count": status.holds, "label": view.text("card_holds"), "alert": false],
            ["key": "quarantine", "href": "/quarantine", "count": quarantined, "label": view.text("card_quarantine"), "alert": quarantined > 0],
            ["key": "audit", "href": "/audit", "count": Int(status.auditEntries), "label": view.text("card_audit"), "alert": false],
        ]
        return [
            "cards": cards,
            "records": ["hasRows": !rows.isEmpty, "connectors": names, "rows": rows] as [String: Any],
            "overdue": [
                "hasRows": !overdueRows.isEmpty, "rows": overdueRows, "any": overdueTotal > 0,
                "summary": view.text("overdue_summary", ["n": String(overdueTotal)]),
            ] as [String: Any],
            "calendar": try await calendarContext(view),
        ]
    }

    /// The calendar from the same plan `/api/plan` answers (`planEvents`), twelve weeks ahead.
    func calendarContext(_ view: DashboardView) async throws -> [String: Any] {
        let events = try await planEvents(connector: nil, horizon: Period(days: ExpiryCalendar.horizonDays), now: view.now)
        let calendar = ExpiryCalendar(events: events, now: view.now, zone: view.zone)
        var calendarDay = Calendar(identifier: .gregorian)
        calendarDay.timeZone = view.zone
        let bars: [[String: Any]] = zip(calendar.weeks, calendar.bars).map { week, bar in
            let last = calendarDay.date(byAdding: .day, value: 6, to: week.start) ?? week.start
            return [
                "start": view.day(week.start), "end": view.day(last), "endShort": view.shortDay(last), "short": view.shortDay(week.start), "count": week.expiries,
                "deletes": week.deletes, "erasures": week.erasures, "notices": week.notices,
                "tooltip": view.text("calendar_bar", ["start": view.day(week.start), "n": String(week.expiries)]),
                "x": bar.x, "y": bar.y, "width": bar.width, "height": bar.height, "center": bar.center, "countY": bar.countY, "dateY": bar.dateY,
            ]
        }
        return [
            "bars": bars, "any": calendar.totalExpiries > 0, "width": ExpiryCalendar.width, "height": ExpiryCalendar.height,
            "left": ExpiryCalendar.left, "right": ExpiryCalendar.width - ExpiryCalendar.left, "baseline": ExpiryCalendar.baseline,
            "description": view.text("calendar_description", ["n": String(calendar.totalExpiries)]),
        ]
    }

    func approvalsContext(_ view: DashboardView) async throws -> [String: Any] {
        let batches = try await store.approvalBatches().sorted {
            ($0.status == .open ? 0 : 1, $1.createdAt, $0.id) < ($1.status == .open ? 0 : 1, $0.createdAt, $1.id)
        }
        let rows: [[String: Any]] = batches.map { batch in
            let needed = configuration.twoPersonAbove.map { batch.deletes > $0 ? 2 : 1 } ?? 1
            var row: [String: Any] = [
                "id": batch.id, "connector": batch.connector, "open": batch.status == .open,
                "statusLabel": view.text("batch_\(batch.status.rawValue)"), "created": view.time(batch.createdAt),
                "operations": batch.operationCount, "missing": batch.missingRecords,
                "approveLabel": view.text("approve_n", ["n": String(batch.operationCount)]),
                "rejectLabel": view.text("reject_label", ["batch": batch.id]),
            ]
            switch batch.status {
            case .open:
                if !batch.signoffs.isEmpty {
                    row["signoffs"] = view.text("signed_by", [
                        "by": batch.signoffs.map(\.recordedAs).joined(separator: ", "), "n": String(batch.signoffs.count), "of": String(needed),
                    ])
                }
            case .approved:
                row["decided"] = view.text("approved_by", ["at": batch.approvedAt.map(view.time) ?? "", "by": batch.approvedBy ?? ""])
            case .rejected:
                row["decided"] = view.text("rejected_by", [
                    "at": batch.rejectedAt.map(view.time) ?? "", "by": batch.rejectedBy ?? "", "reason": batch.rejectionReason ?? "",
                ])
            }
            return row
        }
        return ["hasBatches": !rows.isEmpty, "batches": rows]
    }

    func holdsContext(_ view: DashboardView) async throws -> [String: Any] {
        let holds = try await store.holds(connector: nil).sorted { ($0.createdAt, $0.connector, $0.reference) > ($1.createdAt, $1.connector, $1.reference) }
        let rows: [[String: Any]] = holds.map { hold in
            [
                "connector": hold.connector, "reference": hold.reference, "reason": hold.reason, "by": hold.createdBy, "since": view.time(hold.createdAt),
                "liftLabel": view.text("lift_label", ["reference": hold.reference]),
                "liftReasonLabel": view.text("lift_reason_label", ["reference": hold.reference]),
            ]
        }
        return ["hasHolds": !rows.isEmpty, "holds": rows, "hasConnectors": !connectors.isEmpty, "connectors": connectors.keys.sorted()]
    }

    /// At most this many rows in a list (the rest are counted).
    static let dashboardRows = 500

    func deadContext(_ view: DashboardView) async throws -> [String: Any] {
        var dead: [OutboxOperation] = []
        for name in connectors.keys.sorted() {
            dead += try await store.operations(connector: name, statuses: [.dead])
        }
        let rows: [[String: Any]] = dead.prefix(Self.dashboardRows).map { operation in
            [
                "id": operation.id, "connector": operation.connector, "reference": operation.reference, "kind": operation.kind.rawValue,
                "rule": operation.rule, "attempts": operation.attempts, "error": String((operation.lastError ?? "").prefix(160)),
                "created": view.time(operation.createdAt), "retryLabel": view.text("retry_label", ["reference": operation.reference]),
            ]
        }
        var context: [String: Any] = [
            "hasOperations": !rows.isEmpty, "operations": rows, "retryAllLabel": view.text("retry_all", ["n": String(dead.count)]),
        ]
        if dead.count > rows.count { context["more"] = view.text("more", ["n": String(dead.count - rows.count)]) }
        return context
    }

    /// The latest audit entries, newest first.
    static let auditRows = 100

    func auditContext(_ view: DashboardView) async throws -> [String: Any] {
        let count = try await store.statusCounts().auditEntries
        let entries = try await store.auditEntries(after: max(0, count - Int64(Self.auditRows)), limit: Self.auditRows)
        let rows: [[String: Any]] = entries.reversed().map { entry in
            [
                "seq": entry.seq, "time": view.time(entry.draft.at), "event": entry.draft.event, "connector": entry.draft.connector ?? "",
                "reference": entry.draft.reference ?? "", "rule": entry.draft.rule ?? "", "by": entry.draft.detail["operator"] ?? "",
            ]
        }
        return ["hasEntries": !rows.isEmpty, "entries": rows]
    }

    func quarantineContext(_ view: DashboardView) async throws -> [String: Any] {
        var rows: [[String: Any]] = []
        var total = 0
        for name in connectors.keys.sorted() {
            let records = try await store.quarantinedRecords(connector: name)
            total += records.count
            for record in records where rows.count < Self.dashboardRows {
                let lines = ([record.line].compactMap { $0 } + record.duplicateLines).reduce(into: [Int]()) { if !$0.contains($1) { $0.append($1) } }
                var row: [String: Any] = [
                    "connector": name, "reference": record.reference, "lines": lines.map(String.init).joined(separator: ", "), "code": record.reason.code,
                ]
                if !record.reason.detail.isEmpty { row["detail"] = record.reason.detail }
                rows.append(row)
            }
        }
        var context: [String: Any] = ["hasRecords": !rows.isEmpty, "records": rows]
        if total > rows.count { context["more"] = view.text("more", ["n": String(total - rows.count)]) }
        return context
    }
}
