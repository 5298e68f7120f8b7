public import Foundation
public import Hummingbird
import NIOCore
import RetentionCore
import RetentionStore

/// Who is asking, and what the rest of the hub (the admin API, the dashboard) asks about it.
///
/// - `authenticate(_:)` reads `Authorization: Bearer <token>` (an operator's token or
///   `LETHE_ADMIN_TOKEN`) or the `lethe_session` cookie of a sign-in.
/// - Every form a signed-in page shows carries `csrfToken(for:)` in a hidden field named `csrf`
///   (`csrfField(for:)`); every POST handler calls `checkCSRF(_:form:)` before it changes anything
///   and answers 403 when it fails. Bearer requests need no CSRF token.
/// - `refusal(for:_:)` is the answer to a request that is not signed in: 403 when nobody can sign
///   in, 401 with the sign-in page (HTML) or a JSON error otherwise — never any data.
extension Hub {
    /// Who sent `request`. A bearer header that does not match is `.anonymous` (a wrong token never
    /// falls back to a cookie).
    public func authenticate(_ request: Request) -> HubPrincipal {
        guard !authenticator.isDisabled else { return .disabled }
        if let header = request.headers[.authorization] {
            guard header.hasPrefix("Bearer "), let name = authenticator.operatorName(token: String(header.dropFirst(7))) else {
                return .anonymous
            }
            return .signedIn(name: name, method: .bearer)
        }
        guard let cookie = request.cookies[HubAuthenticator.cookieName]?.value,
            let session = authenticator.verifySession(cookie, now: wallClock.now())
        else { return .anonymous }
        return .signedIn(name: session.name, method: .session(nonce: session.nonce))
    }

    /// The CSRF token the forms of a session's pages carry; nil for bearer requests and for
    /// anyone not signed in.
    public func csrfToken(for principal: HubPrincipal) -> String? {
        guard case .signedIn(_, .session(let nonce)) = principal else { return nil }
        return authenticator.csrfToken(nonce: nonce)
    }

    /// `<input type="hidden" name="csrf" value="…">` for a session's forms; empty otherwise.
    public func csrfField(for principal: HubPrincipal) -> String {
        csrfToken(for: principal).map { #"<input type="hidden" name="csrf" value="\#($0)">"# } ?? ""
    }

    /// Whether a state-changing request may go on: always for a bearer request; for a session, when
    /// the form's `csrf` field is the session's token; never for anyone not signed in.
    public func checkCSRF(_ principal: HubPrincipal, form: [String: String]) -> Bool {
        checkCSRF(principal, token: form["csrf"])
    }

    func checkCSRF(_ principal: HubPrincipal, token: String?) -> Bool {
        guard case .signedIn(_, let method) = principal else { return false }
        guard case .session = method else { return true }
        guard let expected = csrfToken(for: principal), let token else { return false }
        return ConstantTime.isEqual(Array(expected.utf8), Array(token.utf8))
    }

    /// The answer to a request that is not signed in (nil when it is): 403 when nobody can sign in;
    /// else 401 — the sign-in page for a browser (HTML accepted), a JSON error for anything else.
    public func refusal(for principal: HubPrincipal, _ request: Request) -> Response? {
        switch principal {
        case .signedIn: return nil
        case .disabled:
            return Self.error(.forbidden, "admin_disabled", "set LETHE_ADMIN_TOKEN or configure operators to enable the admin surface")
        case .anonymous:
            if (request.headers[.accept] ?? "").contains("text/html") {
                return SignInPage.form(.unauthorized, Self.language(request), next: request.uri.path, failed: false)
            }
            var response = Self.error(.unauthorized, "unauthorized", "a valid bearer token or a sign-in is required")
            response.headers[.wwwAuthenticate] = "Bearer"
            return response
        }
    }

    /// The fields of an `application/x-www-form-urlencoded` body (at most 64 KiB; nil when larger).
    /// A field given twice keeps its first value.
    public static func formFields(_ request: Request) async -> [String: String]? {
        var request = request
        guard let body = try? await request.collectBody(upTo: 64 << 10) else { return nil }
        return formFields(String(buffer: body))
    }

    static func formFields(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decoded(_ part: Substring) -> String {
                part.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            let key = decoded(parts[0])
            if fields[key] == nil { fields[key] = parts.count > 1 ? decoded(parts[1]) : "" }
        }
        return fields
    }

    // MARK: Sign-in

    func addSignInRoutes(to router: Router<BasicRequestContext>) {
        router.get("/signin") { request, _ in
            guard !self.authenticator.isDisabled else { return self.refusal(for: .disabled, request)! }
            return SignInPage.form(.ok, Self.language(request), next: Self.safeNext(request.uri.queryParameters.get("next")), failed: false)
        }
        router.post("/signin") { request, _ in await self.signIn(request) }
        router.post("/signout") { request, _ in await self.signOut(request) }
    }

    /// A token (an operator's or the admin token) for a session cookie. A failure says only that it
    /// failed, is held back a little, and counts towards the per-minute limit.
    func signIn(_ request: Request) async -> Response {
        let language = Self.language(request)
        guard !authenticator.isDisabled else { return refusal(for: .disabled, request)! }
        let now = wallClock.now()
        if let wait = await authenticator.limiter.blocked(at: now) {
            var response = SignInPage.form(.tooManyRequests, language, next: "/", failed: true)
            response.headers[.retryAfter] = String(wait)
            return response
        }
        let form = await Self.formFields(request) ?? [:]
        let next = Self.safeNext(form["next"])
        guard let name = authenticator.operatorName(token: form["token"] ?? ""),
            let token = authenticator.sessionToken(for: name, now: now)
        else {
            await authenticator.limiter.failed(at: now)
            log(.warning, "sign-in failed", [:])
            return SignInPage.form(.unauthorized, language, next: next, failed: true)
        }
        do {
            try await store.appendAudit([AuditDraft(at: clock.now(), event: "operator.signed-in", detail: ["operator": name])])
        } catch {
            log(.error, "sign-in not recorded in the audit log; refused", [:])
            return Self.error(.serviceUnavailable, "store_unavailable", "the sign-in could not be recorded; retry later")
        }
        var response = Response(status: .seeOther)
        response.headers[.location] = next
        response.headers[.cacheControl] = "no-store"
        response.headers[values: .setCookie].append(authenticator.cookieHeader(token))
        return response
    }

    /// Removes the cookie. A signed-in session must send its CSRF token (else 403, nothing changes).
    /// The session stays valid until it expires wherever a copy of the cookie was kept: changing the
    /// operator's token ends them all.
    func signOut(_ request: Request) async -> Response {
        let principal = authenticate(request)
        if case .signedIn(_, .session) = principal {
            guard checkCSRF(principal, form: await Self.formFields(request) ?? [:]) else {
                return Self.error(.forbidden, "csrf", "the form's CSRF token is missing or wrong; nothing was changed")
            }
        }
        var response = Response(status: .seeOther)
        response.headers[.location] = "/signin"
        response.headers[values: .setCookie].append(authenticator.cookieHeader(nil))
        return response
    }

    /// A local path to go to after signing in (`/…`, never `//…` or a URL); `/` otherwise.
    static func safeNext(_ next: String?) -> String {
        guard let next, next.hasPrefix("/"), !next.hasPrefix("//"), !next.contains("\\"), next.count < 512,
            next.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F })
        else { return "/" }
        return next
    }
}

/// The admin API's gate: a bearer token or a session (whose unsafe requests carry the CSRF token
/// in `X-CSRF-Token`); 403 when nobody can sign in, 401 otherwise.
struct OperatorMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let hub: Hub

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let principal = hub.authenticate(request)
        switch principal {
        case .disabled:
            return Hub.error(.forbidden, "admin_disabled", "set LETHE_ADMIN_TOKEN (or configure operators) to enable the admin API")
        case .anonymous:
            var response = Hub.error(.unauthorized, "unauthorized", "a valid bearer token is required")
            response.headers[.wwwAuthenticate] = "Bearer"
            return response
        case .signedIn:
            if ![.get, .head].contains(request.method), !hub.checkCSRF(principal, token: request.headers[.init("X-CSRF-Token")!]) {
                return Hub.error(.forbidden, "csrf", "a session's request must carry its CSRF token (X-CSRF-Token); nothing was changed")
            }
            return try await next(request, context)
        }
    }
}

extension Hub {
    /// Who an admin action is by, for the audit log and the register: a named operator by name; the
    /// holder of the admin token as `api (admin token)`, with what the caller stated (`by`) beside it.
    func operatorLabel(_ request: Request, stated: String?) -> String {
        switch authenticate(request) {
        case .signedIn(let name, _) where name != HubOperator.adminName: name
        default: Self.apiOperator(stated: stated)
        }
    }
}
