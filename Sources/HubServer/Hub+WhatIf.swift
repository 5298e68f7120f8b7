import Foundation
import Hummingbird
import NIOCore
public import RetentionCore
import RetentionStore
import SyncCoordinator

/// The policies the what-if page compares with, and how it reads them. `lethe run` wires them from
/// the configuration (LetheConfig's `PolicyCatalog`); the server only calls these.
public struct WhatIfPolicies: Sendable {
    /// The names of the policy files on offer now (paths relative to the configuration's folder).
    public var files: @Sendable () -> [String]
    /// The policy in the file of that name (one of `files()`); throws the loader's error (`file:line: key: problem`).
    public var load: @Sendable (_ file: String) throws -> Policy
    /// A policy from pasted YAML; throws the loader's error (`pasted:line: key: problem`).
    public var parse: @Sendable (_ text: String) throws -> Policy

    public init(
        files: @escaping @Sendable () -> [String], load: @escaping @Sendable (String) throws -> Policy,
        parse: @escaping @Sendable (String) throws -> Policy
    ) {
        self.files = files
        self.load = load
        self.parse = parse
    }
}

/// The what-if page (`/whatif`): what adopting another policy would change, per connector, from the
/// state alone — `PolicyComparison`, the same numbers as `lethe plan --policy FILE --json`. The form
/// names a policy file beside the configuration or holds a pasted policy, a horizon and a connector;
/// its answer is a page (no redirect). Reads the state only: nothing is written, nothing audited.
extension Hub {
    /// The longest pasted policy (UTF-8 bytes); longer: 413.
    static let whatIfPolicyLimit = 64 * 1024
    /// The longest form: a pasted policy percent-encoded (three bytes a byte) and the other fields.
    static let whatIfBodyLimit = 3 * whatIfPolicyLimit + 4096
    static let whatIfDefaultHorizon = "90d"

    func addWhatIfRoutes(to router: Router<BasicRequestContext>) {
        router.get("/whatif") { request, _ in
            await self.dashboard(.whatif, request) { view in self.whatIfContext(view, form: WhatIfForm(), files: self.whatIfPolicies?.files() ?? []) }
        }
        router.post("/whatif") { request, _ in await self.whatIf(request) }
    }

    /// The fields of the what-if form (`application/x-www-form-urlencoded`).
    struct WhatIfForm: Decodable {
        var csrf: String?
        var file: String?
        var policy: String?
        var horizon: String?
        var connector: String?
    }

    /// Why a what-if form was not compared: the status, the words (a `DashboardTexts` key) and the
    /// loader's message when there is one.
    struct WhatIfProblem: Error {
        var status: HTTPResponse.Status
        var key: String
        var detail: String?
    }

    /// `POST /whatif`: the comparison as a page; 400 (form), 413 (too long), 422 (a policy that does
    /// not load) with the form kept and the reason; 401/403 refusal pages like every dashboard form.
    func whatIf(_ request: Request) async -> Response {
        let view = DashboardView(request: request, zone: displayZone, now: clock.now())
        let (name, csrf): (String, String?)
        switch dashboardGrant(request, view) {
        case .failure(let refused): return refused.response
        case .success(let granted): (name, csrf) = granted
        }
        let files = whatIfPolicies?.files() ?? []
        func page(_ status: HTTPResponse.Status, _ form: WhatIfForm, _ extra: [String: Any] = [:]) -> Response {
            var context = view.base(.whatif, request: request, operator: name, csrf: csrf)
            context["session"] = csrf != nil
            context.merge(whatIfContext(view, form: form, files: files)) { _, new in new }
            context.merge(extra) { _, new in new }
            return view.response(status, PageTemplates.render(DashboardPage.whatif.rawValue, context))
        }
        func problem(_ problem: WhatIfProblem, _ form: WhatIfForm) -> Response {
            var words: [String: Any] = ["text": view.text(problem.key)]
            if let detail = problem.detail { words["detail"] = detail }
            return page(problem.status, form, ["problem": words])
        }
        var request = request
        guard let body = try? await request.collectBody(upTo: Self.whatIfBodyLimit) else {
            return problem(WhatIfProblem(status: .contentTooLarge, key: "whatif_too_large"), WhatIfForm())
        }
        guard let form = try? URLEncodedFormDecoder().decode(WhatIfForm.self, from: String(buffer: body)) else {
            if csrf != nil { return refusal(.forbidden, view, request: request, csrf: true) }
            return problem(WhatIfProblem(status: .badRequest, key: "error_bad_request"), WhatIfForm())
        }
        if let csrf, !ConstantTime.isEqual(Array(csrf.utf8), Array((form.csrf ?? "").utf8)) {
            return refusal(.forbidden, view, request: request, csrf: true)
        }
        do {
            let result = try await whatIfResult(form, view: view, files: files)
            return page(.ok, form, ["result": result])
        } catch let refused as WhatIfProblem {
            // A policy too long to compare is not shown again either.
            var kept = form
            if refused.status == .contentTooLarge { kept.policy = nil }
            return problem(refused, kept)
        } catch {
            log(.error, "dashboard page failed", ["page": DashboardPage.whatif.rawValue, "code": (error as? any LetheError)?.code ?? "\(type(of: error))"])
            return Self.error(.serviceUnavailable, "store_unavailable", "the state could not be read; try again later")
        }
    }

    /// The comparison the form asks for, as the template's `result`; throws `WhatIfProblem` for a
    /// form that cannot be compared (the state is not read then).
    func whatIfResult(_ form: WhatIfForm, view: DashboardView, files: [String]) async throws -> [String: Any] {
        let file = (form.file ?? "").trimmingCharacters(in: .whitespaces)
        let text = form.policy ?? ""
        let pasted = !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
        guard text.utf8.count <= Self.whatIfPolicyLimit else { throw WhatIfProblem(status: .contentTooLarge, key: "whatif_too_large") }
        guard !(pasted && !file.isEmpty) else { throw WhatIfProblem(status: .badRequest, key: "whatif_both") }
        guard pasted || !file.isEmpty else { throw WhatIfProblem(status: .badRequest, key: "whatif_no_policy") }
        guard pasted || files.contains(file) else { throw WhatIfProblem(status: .badRequest, key: "whatif_unknown_file") }
        let horizonText = (form.horizon ?? "").trimmingCharacters(in: .whitespaces)
        guard let horizon = Period(parsing: horizonText.isEmpty ? Self.whatIfDefaultHorizon : horizonText) else {
            throw WhatIfProblem(status: .badRequest, key: "whatif_bad_horizon")
        }
        let only = (form.connector ?? "").isEmpty ? nil : form.connector
        if let only, connectors[only] == nil { throw WhatIfProblem(status: .badRequest, key: "error_unknown_connector") }
        guard let policies = whatIfPolicies else { throw WhatIfProblem(status: .unprocessableContent, key: "whatif_unavailable") }
        let other: Policy
        do {
            other = pasted ? try policies.parse(text) : try policies.load(file)
        } catch {
            throw WhatIfProblem(status: .unprocessableContent, key: "whatif_bad_policy", detail: (error as? any LetheError)?.message ?? "\(error)")
        }
        let names = connectors.keys.sorted().filter { only == nil || $0 == only }
        let reports = try await PolicyComparison.reports(
            connectors: names.compactMap { name in connectors[name].map { (name: name, policy: $0.runtime.policy) } },
            other: other, now: view.now, horizon: horizon, store: store)
        let rows: [[String: Any]] = reports.enumerated().map { index, report in
            var row: [String: Any] = [
                "index": index, "connector": report.connector, "unknown": report.records == 0 && report.notRead == 0,
                "compared": view.text("whatif_compared", ["current": report.currentPolicy, "n": String(report.records)]),
                "counts": PolicyComparison.Change.allCases.map { change -> [String: Any] in
                    [
                        "connector": report.connector, "change": change.rawValue, "key": change.label,
                        "label": view.text("change_\(change.rawValue)"), "count": report.changes[change.rawValue] ?? 0,
                        "differs": change != .same && (report.changes[change.rawValue] ?? 0) > 0,
                    ]
                },
                "missing": report.missingFields.map { missing in
                    view.text("whatif_missing", ["field": missing.field, "kind": missing.kind, "for": Self.neededFor(missing, view: view)])
                },
                "hasExamples": !report.examples.isEmpty,
                "examples": report.examples.map { example -> [String: Any] in
                    [
                        "reference": example.reference, "change": example.change.rawValue, "key": example.change.label,
                        "label": view.text("change_\(example.change.rawValue)"),
                        "current": example.current.map(view.day) ?? "–", "other": example.other.map(view.day) ?? "–",
                        "days": example.days.map(String.init) ?? "", "detail": example.detail ?? "",
                    ]
                },
            ]
            if report.notRead > 0 { row["notRead"] = view.text("whatif_not_read", ["n": String(report.notRead)]) }
            return row
        }
        return [
            "summary": view.text("whatif_summary", [
                "policy": other.name, "source": pasted ? view.text("whatif_pasted") : file, "date": view.time(view.now),
                "horizon": view.period(horizon),
            ]),
            "policy": other.name, "reports": rows, "hasReports": !rows.isEmpty,
        ]
    }

    /// The form, filled in with what was sent (the default horizon, all connectors, when nothing was).
    func whatIfContext(_ view: DashboardView, form: WhatIfForm, files: [String]) -> [String: Any] {
        let horizon = (form.horizon ?? "").isEmpty ? Self.whatIfDefaultHorizon : form.horizon ?? ""
        return [
            "files": files.map { ["name": $0, "selected": $0 == form.file] as [String: Any] },
            "hasFiles": !files.isEmpty,
            "policyText": form.policy ?? "",
            "horizon": horizon,
            "connectors": connectors.keys.sorted().map { ["name": $0, "selected": $0 == form.connector] as [String: Any] },
            "policyHint": view.text("whatif_policy_hint", ["kib": String(Self.whatIfPolicyLimit / 1024)]),
        ]
    }

    /// What a field the state does not keep is needed for, in the page's language (the rule names as
    /// the policy spells them).
    static func neededFor(_ missing: FactsTranslation.MissingField, view: DashboardView) -> String {
        let rules = missing.rules.map { "'\($0)'" }.joined(separator: ", ")
        switch missing.kind {
        case "created-at", "email": return view.text("whatif_for_\(missing.kind)")
        case "date", "erasable": return view.text("whatif_for_\(missing.kind)", ["rules": rules])
        case "consent": return rules.isEmpty ? view.text("whatif_for_consent_policy") : view.text("whatif_for_consent", ["rules": rules])
        case "purposes": return view.text("whatif_for_purposes", ["from": missing.mappedFrom ?? ""])
        default: return missing.neededFor
        }
    }
}
