import Foundation
import Hummingbird
import NIOCore
import RetentionCore
import RetentionStore

/// The dashboard's forms: approve or reject a batch, add or lift a legal hold, retry dead operations.
/// Each calls the function the admin API calls (`approveBatch`, `rejectBatch`, `placeHolds`, `liftHold`,
/// `retryDeadOperations`) with the operator `dashboardAccess` names, then redirects (303) back to
/// its page with a message: done, or why nothing was changed. A session's form must carry the
/// session's CSRF token (`csrf`), else 403 and nothing changes; a bearer request needs none.
extension Hub {
    func addDashboardActions(to router: Router<BasicRequestContext>) {
        router.post("/approvals/:batch/approve") { request, context in
            let batch = context.parameters.get("batch") ?? ""
            return await self.dashboardAction(.approvals, request) { _, _ in
                // Under the four-eyes rule the first operator's approval leaves the batch open.
                let result = try await self.approveBatch(batch, principal: self.authenticate(request))
                return (result.status == .approved ? "approved" : "signed", 1)
            }
        }
        router.post("/approvals/:batch/reject") { request, context in
            let batch = context.parameters.get("batch") ?? ""
            return await self.dashboardAction(.approvals, request) { form, _ in
                let reason = (form.reason ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
                _ = try await self.rejectBatch(batch, principal: self.authenticate(request), reason: reason)
                return ("rejected", 1)
            }
        }
        router.post("/holds") { request, _ in
            await self.dashboardAction(.holds, request) { form, by in
                let ids = (form.ids ?? "").split { $0 == "," || $0.isNewline }.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                let reason = (form.reason ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
                return ("held", try await self.placeHolds(connector: form.connector ?? "", ids: ids, reason: reason, by: by))
            }
        }
        router.post("/holds/lift") { request, _ in
            await self.dashboardAction(.holds, request) { form, by in
                guard let reference = form.reference, !reference.isEmpty else { throw AdminRefusal(.badRequest, "bad_request", "no reference") }
                let reason = (form.reason ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
                guard !reason.isEmpty else { throw AdminRefusal(.badRequest, "bad_request", "no reason") }
                try await self.liftHold(connector: form.connector ?? "", reference: reference, reason: reason, by: by)
                return ("lifted", 1)
            }
        }
        router.post("/dead/retry") { request, _ in
            await self.dashboardAction(.dead, request) { form, by in
                let ids: [String]? = form.all == "true" ? nil : [form.id ?? ""].filter { !$0.isEmpty }
                return ("retried", try await self.retryDeadOperations(ids: ids, by: by).count)
            }
        }
    }

    /// The fields of every dashboard form (`application/x-www-form-urlencoded`).
    struct DashboardForm: Decodable {
        var csrf: String?
        var connector: String?
        var reference: String?
        var ids: String?
        var reason: String?
        var id: String?
        var all: String?
    }

    /// Runs one form's action for an authenticated request (401 / 403 pages otherwise) and answers
    /// 303 to `page` with `?done=<code>&n=<count>` or `?error=<code>`. A form without the session's
    /// CSRF token (when the credential needs one) changes nothing.
    func dashboardAction(
        _ page: DashboardPage, _ request: Request, _ action: (DashboardForm, String) async throws -> (done: String, count: Int)
    ) async -> Response {
        let view = DashboardView(request: request, zone: displayZone, now: clock.now())
        let (name, csrf): (String, String?)
        switch dashboardGrant(request, view) {
        case .failure(let refused): return refused.response
        case .success(let granted): (name, csrf) = granted
        }
        var request = request
        guard let body = try? await request.collectBody(upTo: 64 * 1024),
            let form = try? URLEncodedFormDecoder().decode(DashboardForm.self, from: String(buffer: body))
        else {
            if csrf != nil { return refusal(.forbidden, view, request: request, csrf: true) }
            return Self.seeOther(page, "error=bad_request")
        }
        if let csrf, !ConstantTime.isEqual(Array(csrf.utf8), Array((form.csrf ?? "").utf8)) {
            return refusal(.forbidden, view, request: request, csrf: true)
        }
        do {
            let (done, count) = try await action(form, name)
            return Self.seeOther(page, "done=\(done)&n=\(count)")
        } catch let refusal as AdminRefusal {
            return Self.seeOther(page, "error=\(refusal.code)")
        } catch let refusal as ApprovalRefusal {
            return Self.seeOther(page, "error=\(refusal.code)")
        } catch {
            log(.error, "dashboard action failed", ["page": page.rawValue, "code": (error as? any LetheError)?.code ?? "\(type(of: error))"])
            return Self.seeOther(page, "error=failed")
        }
    }

    static func seeOther(_ page: DashboardPage, _ query: String) -> Response {
        var headers = HTTPFields()
        headers[.location] = "\(page.path)?\(query)"
        headers[.cacheControl] = "no-store"
        return Response(status: .seeOther, headers: headers)
    }
}
