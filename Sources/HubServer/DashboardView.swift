import Foundation
import Hummingbird
import NIOCore
import RetentionCore

/// The pages of the dashboard: their paths, templates and places in the navigation.
enum DashboardPage: String, CaseIterable, Sendable {
    case overview, approvals, holds, dead, audit, quarantine, whatif

    var path: String { self == .overview ? "/" : "/\(rawValue)" }
}

/// What every dashboard page shares: its language, the display zone, the words, the navigation, the
/// message a redirect carried, and how dates are written.
struct DashboardView: Sendable {
    var language: Hub.Language
    /// `?lang=` chose the language: the answer remembers it in the `lang` cookie.
    var chosen: Bool
    var zone: TimeZone
    var now: Date
    var texts: [String: String]

    init(request: Request, zone: TimeZone, now: Date) {
        (language, chosen) = Self.language(request)
        self.zone = zone
        self.now = now
        texts = DashboardTexts.table(language)
    }

    /// `?lang=ko|en` first, then the `lang` cookie, then the first of ko and en in `Accept-Language`
    /// by preference (q-values), else Korean.
    static func language(_ request: Request) -> (Hub.Language, chosen: Bool) {
        if let query = request.uri.queryParameters.get("lang"), let language = tag(query) { return (language, true) }
        if let cookie = request.cookies["lang"]?.value, let language = tag(cookie) { return (language, false) }
        let ranges = (request.headers[.acceptLanguage] ?? "").split(separator: ",").enumerated().compactMap { index, item -> (Double, Int, Hub.Language)? in
            let parts = item.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let first = parts.first, let language = tag(first) else { return nil }
            let quality = parts.dropFirst().first { $0.hasPrefix("q=") }.flatMap { Double($0.dropFirst(2)) } ?? 1
            return quality > 0 ? (quality, index, language) : nil
        }
        let best = ranges.min { ($1.0, $0.1) < ($0.0, $1.1) }
        return (best?.2 ?? .ko, false)
    }

    /// `ko`, `ko-KR`, `en`, `en-US` …; anything else is no choice.
    static func tag(_ text: some StringProtocol) -> Hub.Language? {
        let primary = text.lowercased().split(separator: "-").first.map(String.init) ?? ""
        return primary == "ko" ? .ko : primary == "en" ? .en : nil
    }

    /// A text with `{name}` placeholders filled in (values are escaped by the template, like every value).
    func text(_ key: String, _ values: [String: String] = [:]) -> String {
        var text = texts[key] ?? key
        for (name, value) in values { text = text.replacingOccurrences(of: "{\(name)}", with: value) }
        return text
    }

    func time(_ date: Date) -> String { Self.format(date, "yyyy-MM-dd HH:mm", zone) }
    func day(_ date: Date) -> String { Self.format(date, "yyyy-MM-dd", zone) }
    func shortDay(_ date: Date) -> String { Self.format(date, "MM-dd", zone) }

    static func format(_ date: Date, _ pattern: String, _ zone: TimeZone) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.calendar = Calendar(identifier: .gregorian)
        formatter.timeZone = zone
        formatter.dateFormat = pattern
        return formatter.string(from: date)
    }

    /// `5d` as "5일" / "5 days".
    func period(_ period: Period) -> String {
        let parts: [(Int, String, String, String)] = [
            (period.years, "년", "year", "years"), (period.months, "개월", "month", "months"), (period.days, "일", "day", "days"),
        ]
        let words = parts.filter { $0.0 != 0 }.map { count, ko, one, many in
            language == .ko ? "\(count)\(ko)" : "\(count) \(count == 1 ? one : many)"
        }
        return words.isEmpty ? (language == .ko ? "0일" : "0 days") : words.joined(separator: " ")
    }

    /// The message a redirect after an action carries (`?done=held&n=2`, `?error=no_hold`): only
    /// known codes are shown, with their own words; anything else shows nothing.
    func flash(_ request: Request) -> [String: Any]? {
        let query = request.uri.queryParameters
        let count = query.get("n").flatMap { Int($0) }.map(String.init) ?? "0"
        if let code = query.get("error"), let words = texts["error_\(code)"] {
            return ["text": words.replacingOccurrences(of: "{n}", with: count), "error": true, "role": "alert"]
        }
        if let code = query.get("done"), let words = texts["done_\(code)"] {
            return ["text": words.replacingOccurrences(of: "{n}", with: count), "error": false, "role": "status"]
        }
        return nil
    }

    /// The context every page template starts from.
    func base(_ page: DashboardPage, request: Request, operator name: String, csrf: String?) -> [String: Any] {
        var context: [String: Any] = [
            "lang": language == .en ? "en" : "ko",
            "t": texts,
            "title": text("nav_\(page.rawValue)"),
            "nav": DashboardPage.allCases.map { item -> [String: Any] in
                ["href": item.path, "label": text("nav_\(item.rawValue)"), "current": item == page]
            },
            "switchHref": "\(page.path)?lang=\(language == .en ? "ko" : "en")",
            "switchLang": language == .en ? "ko" : "en",
            "switchLabel": text("switch"),
            "zone": zone.identifier,
            "generatedAt": time(now),
            "operator": name,
        ]
        if let flash = flash(request) { context["flash"] = flash }
        if let csrf { context["csrf"] = csrf }
        return context
    }

    /// A rendered page: HTML, never cached, never framed, no script allowed to run.
    func response(_ status: HTTPResponse.Status, _ html: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        headers[.contentSecurityPolicy] = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        headers[.init("X-Content-Type-Options")!] = "nosniff"
        headers[.init("Referrer-Policy")!] = "same-origin"
        var response = Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
        if chosen {
            response.setCookie(Cookie(name: "lang", value: language == .en ? "en" : "ko", maxAge: 365 * 86_400, path: "/", httpOnly: true, sameSite: .lax))
        }
        return response
    }
}
