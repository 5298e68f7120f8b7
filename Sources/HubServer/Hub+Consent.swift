import Foundation
import Hummingbird
import NIOCore
import RetentionCore
import RetentionStore
import SyncCoordinator

/// `/consent/{token}`: the links of extension notices. GET shows a confirmation page and changes
/// nothing (mail scanners follow links); POST confirms. Korean by default, English with
/// `Accept-Language: en…` or `?lang=en`.
extension Hub {
    func addConsentRoutes(to router: Router<BasicRequestContext>) {
        router.get("/consent/:token") { request, context in await self.consentPage(request, context: context) }
        router.post("/consent/:token") { request, context in await self.confirmConsent(request, context: context) }
    }

    enum Language { case ko, en }

    static func language(_ request: Request) -> Language {
        if let lang = request.uri.queryParameters.get("lang") { return lang.hasPrefix("en") ? .en : .ko }
        let accepted = request.headers[.acceptLanguage]?.lowercased() ?? ""
        return accepted.hasPrefix("en") ? .en : .ko
    }

    func consentPage(_ request: Request, context: BasicRequestContext) async -> Response {
        let language = Self.language(request)
        let token = context.parameters.get("token") ?? ""
        let content: ConsentToken
        switch verifyConsent(token) {
        case .failure(let page): return page(language)
        case .success(let verified): content = verified
        }
        if let decided = try? await store.consentDecision(connector: content.connector, reference: content.reference, rule: content.rule, cycle: content.cycle) {
            return ConsentPages.alreadyDecided(decided, language)
        }
        return ConsentPages.confirm(content, token: token, language, zone: connectors[content.connector]?.runtime.policy.zone ?? .gmt)
    }

    func confirmConsent(_ request: Request, context: BasicRequestContext) async -> Response {
        let language = Self.language(request)
        let content: ConsentToken
        switch verifyConsent(context.parameters.get("token") ?? "") {
        case .failure(let page): return page(language)
        case .success(let verified): content = verified
        }
        guard let connector = connectors[content.connector] else { return ConsentPages.invalid(language) }
        do {
            // A reused link is answered at once, whatever runs.
            if let decided = try await store.consentDecision(connector: content.connector, reference: content.reference, rule: content.rule, cycle: content.cycle) {
                return ConsentPages.alreadyDecided(decided, language)
            }
            // Applied now when the connector is free; recorded now and applied when it is free otherwise
            // (a running sync never makes a consent wait or fail).
            var outcome = try await locks.ifFree(content.connector) {
                try await self.coordinator.applyConsent(content, connector: connector.runtime)
            }
            if outcome == nil { outcome = try await coordinator.recordConsentForLater(content, connector: connector.runtime) }
            guard let outcome else { return ConsentPages.unavailable(language) }
            return ConsentPages.outcome(outcome, language, zone: connector.runtime.policy.zone)
        } catch {
            log(.error, "consent could not be recorded", ["connector": content.connector, "code": (error as? any LetheError)?.code ?? "\(type(of: error))"])
            return ConsentPages.unavailable(language)
        }
    }

    enum Verified {
        case success(ConsentToken)
        case failure(@Sendable (Language) -> Response)
    }

    func verifyConsent(_ token: String) -> Verified {
        guard let signer = consentLinks else { return .failure(ConsentPages.invalid) }
        do {
            let content = try signer.verify(token, now: clock.now())
            guard connectors[content.connector] != nil else { return .failure(ConsentPages.invalid) }
            return .success(content)
        } catch .expired {
            return .failure(ConsentPages.expired)
        } catch {
            return .failure(ConsentPages.invalid)
        }
    }
}
