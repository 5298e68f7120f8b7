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

    @Test func aMissingTemplateFallsBackToTheBuiltInText() throws {
        let renderer = NoticeRenderer(templatesDirectory: FileManager.default.temporaryDirectory.appendingPathComponent("none-\(UUID())"))
        let notice = try renderer.render(template: "nope", locale: "ko", values: values)
        #expect(notice.subject.contains("2026-12-15"))
        #expect(notice.body.contains("홍길동"))
    }
}
