public import Foundation
import Mustache
public import RetentionCore

/// Renders extension notices from text templates `<template>.<locale>.txt` in a folder: the first
/// line is `Subject: …`, then a blank line, then the body. `{{name}}`, `{{expiry}}`, `{{purpose}}`,
/// `{{legal_basis}}`, `{{fields}}`, `{{sender}}`, `{{extend_link}}` and `{{decline_link}}` are replaced,
/// by swift-mustache (text unescaped; `{{#key}}…{{/key}}` / `{{^key}}…{{/key}}` sections shown when the value is set / empty). Unknown
/// locales fall back to `ko`. A `<template>.<locale>.html` beside it becomes the HTML part, with every
/// value HTML-escaped.
public struct NoticeRenderer: Sendable {
    public var templatesDirectory: URL?
    public var defaultLocale: String
    /// Template files read and parsed once per renderer (a run renders thousands of notices from a few).
    private let cache = Cache()

    public init(templatesDirectory: URL?, defaultLocale: String = "ko") {
        self.templatesDirectory = templatesDirectory
        self.defaultLocale = defaultLocale
    }

    final class Cache: @unchecked Sendable {
        private let lock = NSLock()
        private var files: [String: String?] = [:]
        private var templates: [String: MustacheTemplate] = [:]
        private var prepared: [String: Parts] = [:]

        func parts(_ key: String, _ parse: () throws -> Parts) rethrows -> Parts {
            if let known = lock.withLock({ prepared[key] }) { return known }
            let parsed = try parse()
            lock.withLock { prepared[key] = parsed }
            return parsed
        }

        func file(_ path: String, _ read: () throws -> String?) rethrows -> String? {
            if let known = lock.withLock({ files[path] }) { return known }
            let text = try read()
            lock.withLock { files[path] = .some(text) }
            return text
        }

        func template(_ text: String) throws -> MustacheTemplate {
            if let known = lock.withLock({ templates[text] }) { return known }
            let parsed = try MustacheTemplate(string: text)
            lock.withLock { templates[text] = parsed }
            return parsed
        }
    }

    public struct Rendered: Sendable, Equatable {
        public var subject: String
        public var body: String
        /// The HTML alternative, when an `.html` template exists for the locale.
        public var html: String?
    }

    /// `kind` chooses the built-in text used when no template file exists.
    public func render(template: String, locale: String?, values: [String: String], kind: NoticeKind = .extension) throws -> Rendered {
        // The locale comes from the record: it names a template file only when it is a language tag
        // (`^[a-z]{2,3}(-[A-Za-z0-9]+)*$`); anything else (`../`, `/`, spaces) falls back to the default.
        let wanted = (locale.flatMap { Self.isLanguageTag($0) ? $0 : nil } ?? defaultLocale).lowercased()
        let parts = try cache.parts("\(template)\u{0}\(wanted)\u{0}\(kind)") { try parse(template: template, locale: wanted, kind: kind) }
        let set = values.filter { !$0.value.isEmpty }
        return Rendered(subject: parts.subject.render(set), body: parts.body.render(set), html: parts.html?.render(set))
    }

    /// `^[a-z]{2,3}(-[A-Za-z0-9]+)*$`: two or three lowercase letters, then subtags of letters and digits.
    static func isLanguageTag(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard let language = parts.first, (2...3).contains(language.utf8.count),
            language.utf8.allSatisfy({ (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) })
        else { return false }
        return parts.dropFirst().allSatisfy { subtag in
            !subtag.isEmpty && subtag.utf8.allSatisfy { byte in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
            }
        }
    }

    /// A template's subject, body and HTML part, parsed once per template and locale. swift-mustache
    /// renders text parts unescaped and HTML parts HTML-escaped; empty values are left out, so
    /// `{{#key}}…{{/key}}` shows only when the value is set and `{{^key}}` when not.
    struct Parts: @unchecked Sendable {
        var subject: MustacheTemplate
        var body: MustacheTemplate
        var html: MustacheTemplate?
    }

    private func parse(template: String, locale wanted: String, kind: NoticeKind) throws -> Parts {
        let text = try load(template: template, locale: wanted) ?? load(template: template, locale: defaultLocale)
            ?? Self.builtin(locale: wanted, kind: kind)
        var lines = text.components(separatedBy: "\n")
        var subject = "Notice"
        if let first = lines.first, first.hasPrefix("Subject:") {
            subject = String(first.dropFirst("Subject:".count)).trimmingCharacters(in: .whitespaces)
            lines.removeFirst()
            if lines.first?.trimmingCharacters(in: .whitespaces).isEmpty == true { lines.removeFirst() }
        }
        let htmlTemplate = try load(template: template, locale: wanted, extension: "html")
            ?? load(template: template, locale: defaultLocale, extension: "html")
        return Parts(
            subject: try cache.template(Self.textPragma + subject), body: try cache.template(Self.textPragma + lines.joined(separator: "\n")),
            html: try htmlTemplate.map { try cache.template($0) })
    }

    private static let textPragma = "{{% CONTENT_TYPE: TEXT}}"

    private func load(template: String, locale: String, extension fileExtension: String = "txt") throws -> String? {
        guard let directory = templatesDirectory else { return nil }
        let file = directory.appendingPathComponent("\(template).\(locale).\(fileExtension)")
        return try cache.file(file.path) {
            guard FileManager.default.fileExists(atPath: file.path) else { return nil }
            return try String(contentsOf: file, encoding: .utf8)
        }
    }

    static func builtin(locale: String, kind: NoticeKind = .extension) -> String {
        switch (kind, locale == "en") {
        case (.extension, _): return builtinExtension(locale: locale)
        case (.reconfirm, true):
            return """
                Subject: Do you still want to receive our news?

                Dear {{name}},

                On {{consented_at}} you agreed to receive marketing messages from {{sender}}.
                {{#keep_link}}
                To keep receiving them: {{keep_link}}
                To stop receiving them: {{withdraw_link}}
                {{/keep_link}}
                If you do nothing, your consent stays as it is.

                {{sender}}
                """
        case (.reconfirm, false):
            return """
                Subject: [광고성 정보 수신 동의 확인 안내] 수신 동의 여부를 확인해 주세요

                {{name}}님, 안녕하세요.

                고객님께서는 {{consented_at}}에 {{sender}}의 광고성 정보 수신에 동의하셨습니다.
                {{#keep_link}}
                수신 동의 유지: {{keep_link}}
                수신 동의 철회: {{withdraw_link}}
                {{/keep_link}}
                별도로 의사를 표시하지 않으시면 수신 동의는 그대로 유지됩니다.

                {{sender}}
                """
        case (.result, true):
            return """
                Subject: The result of your consent decision

                Dear {{name}},

                Your decision of {{decided_at}} ({{decision}}) has been processed.

                {{sender}}
                """
        case (.result, false):
            return """
                Subject: [수신 동의 처리 결과 안내]

                {{name}}님, 안녕하세요.

                {{decided_at}}에 요청하신 수신 동의 변경({{decision}})이 처리되었습니다.

                {{sender}}
                """
        }
    }

    private static func builtinExtension(locale: String) -> String {
        if locale == "en" {
            return """
                Subject: Your marketing data will be deleted on {{expiry}}

                Dear {{name}},

                We keep your {{fields}} for {{purpose}} until {{expiry}} ({{legal_basis}}).
                {{#extend_link}}
                To keep it, confirm before that date: {{extend_link}}
                Not to keep it: {{decline_link}}
                {{/extend_link}}
                {{^extend_link}}
                If you would like us to keep it, reply to this message before that date.
                {{/extend_link}}
                Otherwise it will be deleted then.

                {{sender}}
                """
        }
        return """
            Subject: [개인정보 보유기간 만료 안내] {{expiry}}에 마케팅 정보가 파기됩니다

            {{name}}님, 안녕하세요.

            고객님의 {{fields}} 정보는 {{purpose}} 목적으로 {{expiry}}까지 보관됩니다 ({{legal_basis}}).
            {{#extend_link}}
            계속 보관을 원하시면 그 전에 확인해 주세요: {{extend_link}}
            연장하지 않으려면: {{decline_link}}
            {{/extend_link}}
            {{^extend_link}}
            계속 보관을 원하시면 그 전에 이 메일에 회신해 주세요.
            {{/extend_link}}
            응답이 없으면 해당 정보는 기간 만료 시 파기됩니다.

            {{sender}}
            """
    }
}
