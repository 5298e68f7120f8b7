import Foundation
import Hummingbird
import NIOCore
import RetentionCore
import SyncCoordinator

/// The pages of the consent flow: short, no personal data, no script, no cookie. The HTML is the
/// `consent` template (PageTemplates); the texts are here, in Korean and English.
enum ConsentPages {
    /// One page: a title, paragraphs, and the confirmation form when there is something to confirm.
    static func page(
        _ status: HTTPResponse.Status, _ language: Hub.Language, title: String, before: [String], form: (action: String, button: String)? = nil,
        after: [String] = []
    ) -> Response {
        var context: [String: Any] = ["lang": language == .en ? "en" : "ko", "title": title, "before": before, "after": after]
        if let form { context["form"] = ["action": form.action, "button": form.button] }
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: PageTemplates.render("consent", context))))
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
        let action = "/consent/\(token)\(language == .en ? "?lang=en" : "")"
        switch (content.action, language) {
        case (.extend, .ko):
            return page(.ok, language, title: "마케팅 정보 보관 연장 확인",
                        before: ["\(expiry)에 만료되는 마케팅 정보를 계속 보관하고 마케팅 정보를 받으시겠습니까? 확인하시면 오늘부터 보관 기간이 다시 시작됩니다."],
                        form: (action, "보관 연장"), after: ["동의는 언제든지 철회하실 수 있습니다."])
        case (.extend, .en):
            return page(.ok, language, title: "Keep my marketing data",
                        before: ["Keep the marketing data that expires on \(expiry) and keep receiving our news? Confirming restarts the retention period from today."],
                        form: (action, "Keep my data"), after: ["You can withdraw your consent at any time."])
        case (.decline, .ko):
            return page(.ok, language, title: "보관 연장하지 않음 확인",
                        before: ["마케팅 정보를 연장하지 않으시겠습니까? 해당 정보는 \(expiry)에 파기됩니다. 서비스 이용에는 영향이 없습니다."],
                        form: (action, "연장하지 않음"))
        case (.decline, .en):
            return page(.ok, language, title: "Do not keep my marketing data",
                        before: ["Do not keep your marketing data? It will be deleted on \(expiry). Your service is not affected."],
                        form: (action, "Do not keep it"))
        case (.keep, .ko):
            return page(.ok, language, title: "광고성 정보 수신 동의 유지 확인",
                        before: ["광고성 정보(마케팅 정보) 수신 동의를 유지하시겠습니까?"],
                        form: (action, "수신 동의 유지"), after: ["동의는 언제든지 철회하실 수 있습니다."])
        case (.keep, .en):
            return page(.ok, language, title: "Keep receiving our news",
                        before: ["Keep your consent to receive our marketing messages?"],
                        form: (action, "Keep my consent"), after: ["You can withdraw your consent at any time."])
        case (.withdraw, .ko):
            return page(.ok, language, title: "광고성 정보 수신 동의 철회 확인",
                        before: ["광고성 정보(마케팅 정보) 수신 동의를 철회하시겠습니까? 서비스 이용에는 영향이 없습니다."],
                        form: (action, "수신 동의 철회"))
        case (.withdraw, .en):
            return page(.ok, language, title: "Stop receiving our news",
                        before: ["Withdraw your consent to receive our marketing messages? Your service is not affected."],
                        form: (action, "Withdraw my consent"))
        }
    }

    static func outcome(_ outcome: ConsentOutcome, _ language: Hub.Language, zone: TimeZone) -> Response {
        switch (outcome, language) {
        case (.extended(let until), .ko):
            return page(.ok, language, title: "보관이 연장되었습니다", before: ["마케팅 정보가 \(day(until, zone: zone))까지 보관됩니다. 감사합니다."])
        case (.extended(let until), .en):
            return page(.ok, language, title: "Your data is kept", before: ["Your marketing data is kept until \(day(until, zone: zone)). Thank you."])
        case (.declined(let expiry), .ko):
            return page(.ok, language, title: "연장하지 않음이 기록되었습니다", before: ["해당 정보는 \(day(expiry, zone: zone))에 파기됩니다."])
        case (.declined(let expiry), .en):
            return page(.ok, language, title: "Recorded: not kept", before: ["The data will be deleted on \(day(expiry, zone: zone))."])
        case (.withdrawn, .ko):
            return page(.ok, language, title: "동의가 철회되었습니다", before: ["마케팅 정보가 지체 없이 파기되었습니다."])
        case (.withdrawn, .en):
            return page(.ok, language, title: "Consent withdrawn", before: ["Your marketing data has been deleted."])
        case (.kept(let next), .ko):
            return page(.ok, language, title: "수신 동의가 유지되었습니다", before: ["다음 수신 동의 확인은 \(day(next, zone: zone))입니다. 감사합니다."])
        case (.kept(let next), .en):
            return page(.ok, language, title: "Your consent is kept", before: ["We will ask again on \(day(next, zone: zone)). Thank you."])
        case (.consentWithdrawn(let expiry), .ko):
            return page(.ok, language, title: "수신 동의가 철회되었습니다",
                        before: ["더 이상 광고성 정보를 보내드리지 않습니다. 마케팅 목적으로 보관하던 정보는 \(day(expiry, zone: zone))에 파기됩니다."])
        case (.consentWithdrawn(let expiry), .en):
            return page(.ok, language, title: "Consent withdrawn",
                        before: ["You will no longer receive our marketing messages. The data kept for them will be deleted on \(day(expiry, zone: zone))."])
        case (.alreadyDecided(let action), _):
            return alreadyDecided(action.rawValue, language)
        case (.recordGone, _):
            return page(.gone, language, title: language == .en ? "Nothing to keep" : "보관 중인 정보가 없습니다",
                        before: [language == .en ? "This information is no longer held." : "이 정보는 더 이상 보관되어 있지 않습니다."])
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
        return page(.conflict, language, title: language == .en ? "Already recorded" : "이미 처리되었습니다", before: [language == .en ? en : ko])
    }

    @Sendable static func invalid(_ language: Hub.Language) -> Response {
        page(.badRequest, language, title: language == .en ? "This link is not valid" : "유효하지 않은 링크입니다",
             before: [language == .en ? "The link is incomplete or was changed. Please use the link in the e-mail as it is." : "링크가 손상되었거나 변경되었습니다. 메일의 링크를 그대로 사용해 주세요."])
    }

    @Sendable static func expired(_ language: Hub.Language) -> Response {
        page(.gone, language, title: language == .en ? "This link has expired" : "링크가 만료되었습니다",
             before: [language == .en ? "The retention period this link was about has ended." : "이 링크가 안내한 보관 기간이 이미 끝났습니다."])
    }

    static func unavailable(_ language: Hub.Language) -> Response {
        page(.serviceUnavailable, language, title: language == .en ? "Please try again later" : "잠시 후 다시 시도해 주세요",
             before: [language == .en ? "Your choice could not be recorded right now. Nothing was changed." : "지금은 선택을 기록할 수 없습니다. 아무것도 변경되지 않았습니다."])
    }
}
