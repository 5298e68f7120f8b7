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

/// Who may use the admin surface: operators' tokens, sign-in sessions, CSRF.
struct OperatorTokenTests {
    @Test func eachOperatorsTokenAndTheAdminTokenAreAcceptedAndNamed() async throws {
        let harness = try AuthHarness()
        for (token, name) in [(AuthHarness.kimToken, "kim"), (AuthHarness.leeToken, "lee"), (AuthHarness.adminToken, "admin")] {
            let request = AuthHarness.request("/api/status", AuthHarness.bearer(token))
            #expect(harness.hub.authenticate(request) == .signedIn(name: name, method: .bearer))
        }
        try await harness.test { client in
            try await client.execute(uri: "/api/status", method: .get, headers: AuthHarness.bearer(AuthHarness.kimToken)) { #expect($0.status == .ok) }
        }
    }

    @Test func aWrongTokenOrNoneIsRefusedWithNoData() async throws {
        let harness = try AuthHarness()
        try await harness.test { client in
            for headers: HTTPFields in [AuthHarness.bearer(AuthHarness.kimToken + "x"), AuthHarness.bearer(""), [:], [.authorization: "Basic a2ltOmtpbQ=="]] {
                try await client.execute(uri: "/api/approvals", method: .get, headers: headers) { response in
                    #expect(response.status == .unauthorized)
                    #expect(response.headers[.wwwAuthenticate] == "Bearer")
                    #expect(json(response)["batches"] == nil)
                }
            }
        }
    }

    @Test func withNoAdminTokenAndNoOperatorEverythingIs403() async throws {
        let harness = try AuthHarness(adminToken: nil, operators: [:])
        try await harness.test { client in
            try await client.execute(uri: "/api/status", method: .get, headers: AuthHarness.bearer(AuthHarness.kimToken)) { response in
                #expect(response.status == .forbidden)
                #expect(json(response)["error"] as? String == "admin_disabled")
            }
            try await client.execute(uri: "/signin", method: .get) { #expect($0.status == .forbidden) }
            try await client.execute(uri: "/signin", method: .post, headers: AuthHarness.form, body: AuthHarness.formBody(["token": "anything"])) {
                #expect($0.status == .forbidden)
                #expect($0.headers[.setCookie] == nil)
            }
        }
    }

    @Test func operatorsWorkWithoutAnAdminToken() async throws {
        let harness = try AuthHarness(adminToken: nil)
        try await harness.test { client in
            try await client.execute(uri: "/api/status", method: .get, headers: AuthHarness.bearer(AuthHarness.leeToken)) { #expect($0.status == .ok) }
            try await client.execute(uri: "/api/status", method: .get, headers: AuthHarness.bearer(AuthHarness.adminToken)) { #expect($0.status == .unauthorized) }
        }
    }

    @Test func theAnswerToAnAnonymousBrowserIsTheSignInPageWithNoData() async throws {
        let harness = try AuthHarness()
        let request = AuthHarness.request("/holds", [.accept: "text/html", .acceptLanguage: "en-US"])
        let response = try #require(harness.hub.refusal(for: harness.hub.authenticate(request), request))
        #expect(response.status == .unauthorized)
        #expect(harness.hub.refusal(for: .signedIn(name: "kim", method: .bearer), request) == nil)
        #expect(harness.hub.refusal(for: .disabled, request)?.status == .forbidden)
    }
}

struct SessionTests {
    @Test func signingInSetsAStrictHttpOnlySecureCookieThatAuthenticates() async throws {
        let harness = try AuthHarness()
        try await harness.test { client in
            try await client.execute(uri: "/signin", method: .get, headers: [.acceptLanguage: "ko-KR"]) { response in
                #expect(response.status == .ok)
                let page = String(buffer: response.body)
                #expect(page.contains(#"name="token""#) && page.contains("로그인"))
                #expect(!page.contains("kim"), "no data on the sign-in page")
            }
            try await client.execute(uri: "/signin?lang=en", method: .get) { #expect(String(buffer: $0.body).contains("Sign in")) }
            try await client.execute(uri: "/signin", method: .post, headers: AuthHarness.form,
                                     body: AuthHarness.formBody(["token": AuthHarness.kimToken, "next": "/approvals"])) { response in
                #expect(response.status == .seeOther)
                #expect(response.headers[.location] == "/approvals")
                let cookie = response.headers[.setCookie] ?? ""
                for attribute in ["lethe_session=v1.", "HttpOnly", "SameSite=Strict", "Path=/", "Secure", "Max-Age=43200"] {
                    #expect(cookie.contains(attribute), "\(attribute) in \(cookie)")
                }
            }
            let session = try await AuthHarness.signIn(client, token: AuthHarness.kimToken)
            try await client.execute(uri: "/api/status", method: .get, headers: AuthHarness.cookie(session)) { #expect($0.status == .ok) }
            let request = AuthHarness.request("/", AuthHarness.cookie(session))
            guard case .signedIn("kim", .session) = harness.hub.authenticate(request) else {
                Issue.record("the cookie signs kim in")
                return
            }
        }
        let audit = try await harness.store.auditEntries(after: 0, limit: 100).filter { $0.draft.event == "operator.signed-in" }
        #expect(audit.map { $0.draft.detail["operator"] } == ["kim", "kim"])
    }

    @Test func theCookieIsNotSecureOverPlainHTTP() async throws {
        let harness = try AuthHarness(publicURL: "http://127.0.0.1:8080")
        try await harness.test { client in
            try await client.execute(uri: "/signin", method: .post, headers: AuthHarness.form, body: AuthHarness.formBody(["token": AuthHarness.adminToken])) { response in
                let cookie = response.headers[.setCookie] ?? ""
                #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"))
                #expect(!cookie.contains("Secure"))
            }
        }
    }

    @Test func aTamperedOrForeignOrExpiredCookieIsRefused() async throws {
        let harness = try AuthHarness()
        try await harness.test { client in
            let session = try await AuthHarness.signIn(client, token: AuthHarness.leeToken)
            var parts = session.split(separator: ".").map(String.init)
            #expect(parts.count == 3)
            // lee's payload with kim's name, the signature left as it was.
            let payload = String(decoding: Data(base64Encoded: parts[1] + String(repeating: "=", count: (4 - parts[1].count % 4) % 4))!, as: UTF8.self)
            parts[1] = Data(payload.replacingOccurrences(of: "lee", with: "kim").utf8).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            let forged = parts.joined(separator: ".")
            // One character of the signature changed (not its last, whose low bits base64 ignores).
            let original = session.split(separator: ".").map(String.init)
            let signature = original[2]
            let flipped = [original[0], original[1], (signature.first == "A" ? "B" : "A") + signature.dropFirst()].joined(separator: ".")
            for cookie in [forged, flipped, "v1.x.y", "", session + "x"] {
                try await client.execute(uri: "/api/status", method: .get, headers: AuthHarness.cookie(cookie)) { #expect($0.status == .unauthorized) }
            }
            try await client.execute(uri: "/api/status", method: .get, headers: AuthHarness.cookie(session)) { #expect($0.status == .ok) }
            harness.wallClock.advance(by: 12 * 3600 - 1)
            try await client.execute(uri: "/api/status", method: .get, headers: AuthHarness.cookie(session)) { #expect($0.status == .ok) }
            harness.wallClock.advance(by: 1)
            try await client.execute(uri: "/api/status", method: .get, headers: AuthHarness.cookie(session)) { #expect($0.status == .unauthorized, "expired after 12 h") }
        }
    }

    @Test func aSessionWorksOnAnotherInstanceAndEndsWhenTheTokenChanges() async throws {
        let first = try AuthHarness()
        let session = try #require(first.hub.authenticator.sessionToken(for: "kim", now: first.wallClock.now()))
        let second = try AuthHarness(store: first.store)
        try await second.test { client in
            try await client.execute(uri: "/api/status", method: .get, headers: AuthHarness.cookie(session)) { #expect($0.status == .ok, "same secret, other instance") }
        }
        let rotated = try AuthHarness(operators: ["kim": "a-new-token-for-kim-0123456789abcdefgh", "lee": AuthHarness.leeToken], store: first.store)
        try await rotated.test { client in
            try await client.execute(uri: "/api/status", method: .get, headers: AuthHarness.cookie(session)) { #expect($0.status == .unauthorized, "kim's token changed") }
        }
        let removed = try AuthHarness(operators: ["lee": AuthHarness.leeToken], store: first.store)
        try await removed.test { client in
            try await client.execute(uri: "/api/status", method: .get, headers: AuthHarness.cookie(session)) { #expect($0.status == .unauthorized, "kim was removed") }
        }
    }

    @Test func aFailedSignInSaysNothingSpecificAndIsLimited() async throws {
        let harness = try AuthHarness(failuresPerMinute: 2)
        try await harness.test { client in
            var pages: [String] = []
            for token in ["wrong", AuthHarness.kimToken.uppercased()] {
                pages.append(try await client.execute(uri: "/signin", method: .post, headers: AuthHarness.form.adding([.acceptLanguage: "en"]), body: AuthHarness.formBody(["token": token])) { response in
                    #expect(response.status == .unauthorized)
                    #expect(response.headers[.setCookie] == nil)
                    return String(buffer: response.body)
                })
            }
            #expect(pages[0] == pages[1], "the same answer whatever was wrong")
            #expect(pages[0].contains("Sign-in failed"))
            try await client.execute(uri: "/signin", method: .post, headers: AuthHarness.form, body: AuthHarness.formBody(["token": AuthHarness.kimToken])) { response in
                #expect(response.status == .tooManyRequests)
                #expect(response.headers[.retryAfter] != nil)
                #expect(response.headers[.setCookie] == nil)
            }
            try await client.execute(uri: "/api/status", method: .get, headers: AuthHarness.bearer(AuthHarness.kimToken)) { #expect($0.status == .ok, "bearer tokens are not limited") }
            harness.wallClock.advance(by: 60)
            #expect(try await AuthHarness.signIn(client, token: AuthHarness.kimToken).hasPrefix("v1."))
        }
    }

    @Test func nextMustBeALocalPath() async throws {
        let harness = try AuthHarness()
        try await harness.test { client in
            for next in ["https://evil.example", "//evil.example", "/\\evil", "javascript:alert(1)"] {
                try await client.execute(uri: "/signin", method: .post, headers: AuthHarness.form, body: AuthHarness.formBody(["token": AuthHarness.kimToken, "next": next])) {
                    #expect($0.headers[.location] == "/")
                }
            }
        }
    }
}

struct CSRFTests {
    @Test func aSessionPostWithoutItsCSRFTokenIs403AndChangesNothing() async throws {
        let harness = try AuthHarness()
        try await harness.test { client in
            let session = try await AuthHarness.signIn(client, token: AuthHarness.kimToken)
            let body = ByteBuffer(string: #"{"connector": "crm", "ids": ["d1"], "reason": "litigation"}"#)
            for extra: HTTPFields in [[:], [.init("X-CSRF-Token")!: "not-the-token"]] {
                try await client.execute(uri: "/api/holds", method: .post, headers: AuthHarness.cookie(session).adding(extra), body: body) { response in
                    #expect(response.status == .forbidden)
                    #expect(json(response)["error"] as? String == "csrf")
                }
            }
            #expect(try await harness.store.holds(connector: nil).isEmpty, "nothing changed")
            let request = AuthHarness.request("/", AuthHarness.cookie(session))
            let principal = harness.hub.authenticate(request)
            let token = try #require(harness.hub.csrfToken(for: principal))
            #expect(harness.hub.csrfField(for: principal).contains(token))
            #expect(harness.hub.checkCSRF(principal, form: ["csrf": token]))
            #expect(!harness.hub.checkCSRF(principal, form: [:]))
            #expect(!harness.hub.checkCSRF(.anonymous, form: ["csrf": token]))
            #expect(harness.hub.checkCSRF(.signedIn(name: "kim", method: .bearer), form: [:]), "bearer requests need none")
            try await client.execute(uri: "/api/holds", method: .post, headers: AuthHarness.cookie(session).adding([.init("X-CSRF-Token")!: token]), body: body) {
                #expect($0.status == .ok)
            }
            #expect(try await harness.store.holds(connector: nil).map(\.createdBy) == ["kim"])
            // Another sign-in of the same operator has another token.
            let other = try await AuthHarness.signIn(client, token: AuthHarness.kimToken)
            let otherRequest = AuthHarness.request("/", AuthHarness.cookie(other))
            #expect(harness.hub.csrfToken(for: harness.hub.authenticate(otherRequest)) != token)
        }
    }

    @Test func signingOutNeedsTheCSRFTokenAndRemovesTheCookie() async throws {
        let harness = try AuthHarness()
        try await harness.test { client in
            let session = try await AuthHarness.signIn(client, token: AuthHarness.kimToken)
            try await client.execute(uri: "/signout", method: .post, headers: AuthHarness.cookie(session).adding(AuthHarness.form), body: AuthHarness.formBody([:])) {
                #expect($0.status == .forbidden)
                #expect($0.headers[.setCookie] == nil)
            }
            let request = AuthHarness.request("/", AuthHarness.cookie(session))
            let token = try #require(harness.hub.csrfToken(for: harness.hub.authenticate(request)))
            try await client.execute(uri: "/signout", method: .post, headers: AuthHarness.cookie(session).adding(AuthHarness.form), body: AuthHarness.formBody(["csrf": token])) { response in
                #expect(response.status == .seeOther)
                #expect(response.headers[.setCookie]?.contains("Max-Age=0") == true)
            }
        }
    }
}

extension HTTPFields {
    func adding(_ other: HTTPFields) -> HTTPFields {
        var merged = self
        for field in other { merged.append(field) }
        return merged
    }
}
