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

/// The pages of the consent flow: short, no personal data, no script.
enum ConsentPages {
    static func page(_ status: HTTPResponse.Status, _ language: Hub.Language, title: String, body: String) -> Response {
        let lang = language == .en ? "en" : "ko"
        let html = """
            <!doctype html>
            <html lang="\(lang)"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="robots" content="noindex"><title>\(title)</title></head>
            <body style="font-family: sans-serif; max-width: 36em; margin: 3em auto; line-height: 1.6">
            <h1 style="font-size: 1.4em">\(title)</h1>
            \(body)
            </body></html>
            """
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static func day(_ date: Date, zone: TimeZone) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = zone
        formatter.dateFormat = "yyyy-MM-dd"
        return formatter.string(from: date)
    }

    static func confirm(_ content: ConsentToken, token: String, _ language: Hub.Language, zone: TimeZone) -> Response {
        let expiry = day(content.cycle, zone: zone)
        let form = #"<form method="post" action="/consent/\#(token)\#(language == .en ? "?lang=en" : "")"><button type="submit" style="font-size: 1.1em; padding: .5em 1.5em">"#
        switch (content.action, language) {
        case (.extend, .ko):
            return page(.ok, language, title: "마케팅 정보 보관 연장 확인",
                        body: "<p>\(expiry)에 만료되는 마케팅 정보를 계속 보관하고 마케팅 정보를 받으시겠습니까? 확인하시면 오늘부터 보관 기간이 다시 시작됩니다.</p>\(form)보관 연장</button></form><p>동의는 언제든지 철회하실 수 있습니다.</p>")
        case (.extend, .en):
            return page(.ok, language, title: "Keep my marketing data",
                        body: "<p>Keep the marketing data that expires on \(expiry) and keep receiving our news? Confirming restarts the retention period from today.</p>\(form)Keep my data</button></form><p>You can withdraw your consent at any time.</p>")
        case (.decline, .ko):
            return page(.ok, language, title: "보관 연장하지 않음 확인",
                        body: "<p>마케팅 정보를 연장하지 않으시겠습니까? 해당 정보는 \(expiry)에 파기됩니다. 서비스 이용에는 영향이 없습니다.</p>\(form)연장하지 않음</button></form>")
        case (.decline, .en):
            return page(.ok, language, title: "Do not keep my marketing data",
                        body: "<p>Do not keep your marketing data? It will be deleted on \(expiry). Your service is not affected.</p>\(form)Do not keep it</button></form>")
        case (.keep, .ko):
            return page(.ok, language, title: "광고성 정보 수신 동의 유지 확인",
                        body: "<p>광고성 정보(마케팅 정보) 수신 동의를 유지하시겠습니까?</p>\(form)수신 동의 유지</button></form><p>동의는 언제든지 철회하실 수 있습니다.</p>")
        case (.keep, .en):
            return page(.ok, language, title: "Keep receiving our news",
                        body: "<p>Keep your consent to receive our marketing messages?</p>\(form)Keep my consent</button></form><p>You can withdraw your consent at any time.</p>")
        case (.withdraw, .ko):
            return page(.ok, language, title: "광고성 정보 수신 동의 철회 확인",
                        body: "<p>광고성 정보(마케팅 정보) 수신 동의를 철회하시겠습니까? 서비스 이용에는 영향이 없습니다.</p>\(form)수신 동의 철회</button></form>")
        case (.withdraw, .en):
            return page(.ok, language, title: "Stop receiving our news",
                        body: "<p>Withdraw your consent to receive our marketing messages? Your service is not affected.</p>\(form)Withdraw my consent</button></form>")
        }
    }

    static func outcome(_ outcome: ConsentOutcome, _ language: Hub.Language, zone: TimeZone) -> Response {
        switch (outcome, language) {
        case (.extended(let until), .ko):
            return page(.ok, language, title: "보관이 연장되었습니다", body: "<p>마케팅 정보가 \(day(until, zone: zone))까지 보관됩니다. 감사합니다.</p>")
        case (.extended(let until), .en):
            return page(.ok, language, title: "Your data is kept", body: "<p>Your marketing data is kept until \(day(until, zone: zone)). Thank you.</p>")
        case (.declined(let expiry), .ko):
            return page(.ok, language, title: "연장하지 않음이 기록되었습니다", body: "<p>해당 정보는 \(day(expiry, zone: zone))에 파기됩니다.</p>")
        case (.declined(let expiry), .en):
            return page(.ok, language, title: "Recorded: not kept", body: "<p>The data will be deleted on \(day(expiry, zone: zone)).</p>")
        case (.withdrawn, .ko):
            return page(.ok, language, title: "동의가 철회되었습니다", body: "<p>마케팅 정보가 지체 없이 파기되었습니다.</p>")
        case (.withdrawn, .en):
            return page(.ok, language, title: "Consent withdrawn", body: "<p>Your marketing data has been deleted.</p>")
        case (.kept(let next), .ko):
            return page(.ok, language, title: "수신 동의가 유지되었습니다", body: "<p>다음 수신 동의 확인은 \(day(next, zone: zone))입니다. 감사합니다.</p>")
        case (.kept(let next), .en):
            return page(.ok, language, title: "Your consent is kept", body: "<p>We will ask again on \(day(next, zone: zone)). Thank you.</p>")
        case (.consentWithdrawn(let expiry), .ko):
            return page(.ok, language, title: "수신 동의가 철회되었습니다", body: "<p>더 이상 광고성 정보를 보내드리지 않습니다. 마케팅 목적으로 보관하던 정보는 \(day(expiry, zone: zone))에 파기됩니다.</p>")
        case (.consentWithdrawn(let expiry), .en):
            return page(.ok, language, title: "Consent withdrawn", body: "<p>You will no longer receive our marketing messages. The data kept for them will be deleted on \(day(expiry, zone: zone)).</p>")
        case (.alreadyDecided(let action), _):
            return alreadyDecided(action.rawValue, language)
        case (.recordGone, _):
            return page(.gone, language, title: language == .en ? "Nothing to keep" : "보관 중인 정보가 없습니다",
                        body: language == .en ? "<p>This information is no longer held.</p>" : "<p>이 정보는 더 이상 보관되어 있지 않습니다.</p>")
        case (.notExtendable, _):
            return invalid(language)
        }
    }

    static func alreadyDecided(_ action: String, _ language: Hub.Language) -> Response {
        let (ko, en) = switch ConsentAction(rawValue: action) {
        case .extend: ("이미 보관 연장을 확인하셨습니다.", "You already chose to keep your data.")
        case .keep: ("이미 수신 동의 유지를 확인하셨습니다.", "You already chose to keep your consent.")
        case .withdraw: ("이미 수신 동의를 철회하셨습니다.", "You already withdrew your consent.")
        case .decline, nil: ("이미 연장하지 않음을 선택하셨습니다.", "You already chose not to keep your data.")
        }
        return page(.conflict, language, title: language == .en ? "Already recorded" : "이미 처리되었습니다",
                    body: "<p>\(language == .en ? en : ko)</p>")
    }

    @Sendable static func invalid(_ language: Hub.Language) -> Response {
        page(.badRequest, language, title: language == .en ? "This link is not valid" : "유효하지 않은 링크입니다",
             body: language == .en ? "<p>The link is incomplete or was changed. Please use the link in the e-mail as it is.</p>" : "<p>링크가 손상되었거나 변경되었습니다. 메일의 링크를 그대로 사용해 주세요.</p>")
    }

    @Sendable static func expired(_ language: Hub.Language) -> Response {
        page(.gone, language, title: language == .en ? "This link has expired" : "링크가 만료되었습니다",
             body: language == .en ? "<p>The retention period this link was about has ended.</p>" : "<p>이 링크가 안내한 보관 기간이 이미 끝났습니다.</p>")
    }

    static func unavailable(_ language: Hub.Language) -> Response {
        page(.serviceUnavailable, language, title: language == .en ? "Please try again later" : "잠시 후 다시 시도해 주세요",
             body: language == .en ? "<p>Your choice could not be recorded right now. Nothing was changed.</p>" : "<p>지금은 선택을 기록할 수 없습니다. 아무것도 변경되지 않았습니다.</p>")
    }
}
