public import Foundation
public import Hummingbird
import NIOCore
import RetentionCore
public import RetentionStore

/// Approving and rejecting approval batches, for the admin API and the dashboard. Who approves is
/// who the request proves to be (`authenticate`): under the four-eyes rule
/// (`HubConfiguration.twoPersonAbove`) a large batch needs two different operators; the first
/// approval leaves it open ("1 of 2"), the second releases it.
extension Hub {
    /// Why an approval or rejection changed nothing: a status and a stable code.
    public struct ApprovalRefusal: Error, Sendable {
        public var status: HTTPResponse.Status
        public var code: String
        public var message: String
    }

    /// The approver a request proves. The holder of `LETHE_ADMIN_TOKEN` calling the API is recorded
    /// as `api (admin token)`, with what the caller stated (`by`) beside it.
    func approver(_ principal: HubPrincipal, stated: String?) -> Approver {
        guard case .signedIn(let name, let method) = principal else { return .stated(Self.apiOperator(stated: stated)) }
        if name == HubOperator.adminName, method == .bearer { return .authenticated(name, recordedAs: Self.apiOperator(stated: stated)) }
        return .authenticated(name)
    }

    /// One approval of an open batch by a signed-in operator (see `ApprovalStore.approve`). Throws
    /// `ApprovalRefusal`: 404 `unknown_batch`, 409 `already_approved` / `rejected`, 409
    /// `same_operator` (this operator already approved it), 403 `needs_operator`.
    public func approveBatch(_ batch: String, principal: HubPrincipal, stated: String? = nil) async throws -> ApprovalBatch {
        try await refusingStoreErrors {
            try await self.store.approve(
                batch: batch, as: self.approver(principal, stated: stated), twoPersonAbove: self.configuration.twoPersonAbove, at: self.clock.now())
        }
    }

    /// Rejects an open batch (see `ApprovalStore.reject`): its deletes are cancelled, never executed.
    /// Throws `ApprovalRefusal`: 400 `reason_required`, 404 `unknown_batch`, 409 `already_approved` / `rejected`.
    public func rejectBatch(_ batch: String, principal: HubPrincipal, reason: String) async throws -> ApprovalBatch {
        guard principal.operatorName != nil else { throw ApprovalRefusal(status: .unauthorized, code: "unauthorized", message: "sign in first") }
        return try await refusingStoreErrors {
            try await self.store.reject(batch: batch, by: self.approver(principal, stated: nil).recordedAs, reason: reason, at: self.clock.now())
        }
    }

    private func refusingStoreErrors(_ body: () async throws -> ApprovalBatch) async throws -> ApprovalBatch {
        do {
            return try await body()
        } catch let error as StoreError {
            switch error.code {
            case "approval.unknown_batch": throw ApprovalRefusal(status: .notFound, code: "unknown_batch", message: error.message)
            case "approval.not_open":
                let rejected = error.message.hasSuffix("rejected")
                throw ApprovalRefusal(status: .conflict, code: rejected ? "rejected" : "already_approved", message: error.message)
            case "approval.same_operator": throw ApprovalRefusal(status: .conflict, code: "same_operator", message: error.message)
            case "approval.needs_operator": throw ApprovalRefusal(status: .forbidden, code: "needs_operator", message: error.message)
            case "approval.reason_required": throw ApprovalRefusal(status: .badRequest, code: "reason_required", message: error.message)
            default: throw error
            }
        }
    }

    // MARK: Routes

    struct RejectBody: Decodable { var reason: String }

    func addApprovalRoutes(to api: RouterGroup<BasicRequestContext>) {
        api.post("approvals/:batch/approve") { request, context in
            let body = try? await request.decode(as: OperatorBody.self, context: context)
            return try await Self.approvalAnswer {
                try await self.approveBatch(context.parameters.get("batch") ?? "", principal: self.authenticate(request), stated: body?.by)
            }
        }
        api.post("approvals/:batch/reject") { request, context in
            guard let body = try? await request.decode(as: RejectBody.self, context: context) else {
                return Self.error(.badRequest, "bad_request", "expected {reason}")
            }
            return try await Self.approvalAnswer {
                try await self.rejectBatch(context.parameters.get("batch") ?? "", principal: self.authenticate(request), reason: body.reason)
            }
        }
    }

    static func approvalAnswer(_ action: () async throws -> ApprovalBatch) async throws -> Response {
        do {
            return json(.ok, try await action())
        } catch let refusal as ApprovalRefusal {
            return error(refusal.status, refusal.code, refusal.message)
        }
    }
}
