import Foundation
import SyncCoordinator
import Testing

@Suite struct NoticeRendererTests {
    static var shippedTemplates: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("config/templates")
    }

    let values = ["name": "홍길동", "expiry": "2026-12-15", "purpose": "marketing", "legal_basis": "정보통신망법 제50조", "fields": "interests", "sender": "privacy@example.org"]

    @Test func theShippedKoreanTemplateRendersEveryPlaceholder() throws {
        let renderer = NoticeRenderer(templatesDirectory: Self.shippedTemplates)
        let notice = try renderer.render(template: "marketing-extension", locale: nil, values: values)
        #expect(notice.subject.contains("2026-12-15"))
        #expect(notice.body.contains("홍길동님"))
        #expect(!notice.subject.contains("{{") && !notice.body.contains("{{"))
    }

    @Test func englishIsChosenByLocaleAndUnknownLocalesFallBackToKorean() throws {
        let renderer = NoticeRenderer(templatesDirectory: Self.shippedTemplates)
        let english = try renderer.render(template: "marketing-extension", locale: "en", values: values)
        #expect(english.subject.hasPrefix("Your marketing data"))
        let unknown = try renderer.render(template: "marketing-extension", locale: "fr", values: values)
        #expect(unknown.subject.contains("개인정보"))
    }

    /// A record's locale never reaches a file path unless it is a language tag: a template planted
    /// outside the folder is not read.
    @Test(arguments: ["../outside", "../../outside", "x/../../outside", "/tmp/outside", "en/../../outside", "EN", "e", "en-", "en_US", "ko KR"])
    func aLocaleThatIsNotALanguageTagFallsBackToTheDefault(locale: String) throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("lethe-locale-\(UUID().uuidString)")
        let folder = root.appendingPathComponent("a/templates")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        // `n.x/../../outside.txt` from the folder is `a/outside.txt`.
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("n.x"), withIntermediateDirectories: true)
        try "Subject: PLANTED\n\nplanted".write(to: root.appendingPathComponent("a/outside.txt"), atomically: true, encoding: .utf8)
        try "Subject: 기본 {{expiry}}\n\n기본".write(to: folder.appendingPathComponent("n.ko.txt"), atomically: true, encoding: .utf8)
        let notice = try NoticeRenderer(templatesDirectory: folder).render(template: "n", locale: locale, values: values)
        #expect(!notice.subject.contains("PLANTED") && !notice.body.contains("planted"), "\(locale) reached outside the folder")
    }

    @Test(arguments: ["ko", "en", "zh-Hant", "sgn-KR", "en-GB-oxendict", "ko-KR"])
    func languageTagsChooseTheirTemplate(locale: String) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lethe-locale-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try "Subject: mine\n\nmine".write(to: folder.appendingPathComponent("n.\(locale.lowercased()).txt"), atomically: true, encoding: .utf8)
        #expect(try NoticeRenderer(templatesDirectory: folder).render(template: "n", locale: locale, values: values).body.contains("mine"))
    }

    @Test func aMissingTemplateFallsBackToTheBuiltInText() throws {
        let renderer = NoticeRenderer(templatesDirectory: FileManager.default.temporaryDirectory.appendingPathComponent("none-\(UUID())"))
        let notice = try renderer.render(template: "nope", locale: "ko", values: values)
        #expect(notice.subject.contains("2026-12-15"))
        #expect(notice.body.contains("홍길동"))
    }
}

struct NoticeHTMLTests {
    static var templates: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("config/templates")
    }

    @Test func theShippedTemplatesHaveAnHTMLPartWithEscapedValuesAndLinks() throws {
        let renderer = NoticeRenderer(templatesDirectory: Self.templates)
        let values = ["name": "김<b>민준</b>", "expiry": "2026-12-15", "purpose": "marketing", "legal_basis": "정보통신망법 제50조",
                      "fields": "interests", "sender": "privacy@example.org",
                      "extend_link": "https://lethe.example.com/consent/a.b", "decline_link": "https://lethe.example.com/consent/c.d"]
        for locale in ["ko", "en"] {
            let rendered = try renderer.render(template: "marketing-extension", locale: locale, values: values)
            let html = try #require(rendered.html)
            #expect(html.contains("김&lt;b&gt;민준&lt;/b&gt;"))
            #expect(html.contains(#"<a href="https://lethe.example.com/consent/a.b">"#))
            #expect(!html.contains("{{"))
            #expect(rendered.body.contains("https://lethe.example.com/consent/c.d"))
        }
        var noLinks = values
        noLinks["extend_link"] = nil
        noLinks["decline_link"] = nil
        let plain = try renderer.render(template: "marketing-extension", locale: "ko", values: noLinks)
        #expect(plain.body.contains("회신해 주세요") && !plain.body.contains("{{"))
        #expect(plain.html?.contains("href") == false)
    }
}

struct ConsentResultTemplateTests {
    @Test func theShippedResultTemplatesReportTheDecision() throws {
        let renderer = NoticeRenderer(templatesDirectory: NoticeHTMLTests.templates)
        var values = ["name": "김민준", "fields": "interests", "purpose": "marketing", "sender": "privacy@example.org",
                      "decided_at": "2026-11-29", "decision": "extend", "extended": "yes"]
        let extended = try renderer.render(template: "consent-result", locale: "ko", values: values)
        #expect(extended.subject.contains("수신 동의 처리 결과"))
        #expect(extended.body.contains("보관 연장") && !extended.body.contains("연장하지 않음") && !extended.body.contains("{{"))
        values["decision"] = "decline"
        values["extended"] = ""
        values["declined"] = "yes"
        let declined = try renderer.render(template: "consent-result", locale: "en", values: values)
        #expect(declined.body.contains("not extended") && !declined.body.contains("{{"))
        #expect(!declined.body.contains("withdrawn") && !declined.body.contains("agreed"), "one result only")
        values["declined"] = ""
        for (flag, ko, en) in [("withdrawn", "수신 동의 철회", "withdrawn"), ("consented", "광고성 정보 수신 동의", "you agreed")] {
            values[flag] = "yes"
            for template in ["consent-result", "marketing-reconfirm-result"] {
                let korean = try renderer.render(template: template, locale: "ko", values: values)
                let english = try renderer.render(template: template, locale: "en", values: values)
                #expect(korean.body.contains(ko) && english.body.lowercased().contains(en), "\(template) \(flag)")
                #expect(!english.body.contains("not extended") && !english.body.contains("{{"), "\(template) \(flag)")
            }
            values[flag] = ""
        }
    }
}
