import Foundation
@testable import RetentionCore
import Testing

/// `FastText` must answer exactly what the Foundation calls it stands for.
@Suite struct FastTextTests {
    static let samples: [String] = [
        "", " ", "a", " a ", "\ta\n", "payment", " payment ; marketing ", "payment;;marketing;", ";", ";;", "고객",
        " 고객 ", "\u{3000}고객\u{3000}", "\u{A0}x\u{A0}", "x\u{85}", "\u{2028}y", "a\r\nb", "e\u{301}", "Y", "n", " Y ",
        "yes", "TRUE", "0", "maybe", "\u{0}", "a\u{0}", "golf, wine", "2023-03-13 10:00:00", "payment\r;marketing",
    ]

    @Test(arguments: samples)
    func trimmingMatchesFoundation(_ text: String) {
        #expect(FastText.trimmed(text, newlines: true) == text.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(FastText.trimmed(text, newlines: false) == text.trimmingCharacters(in: .whitespaces))
    }

    @Test(arguments: samples)
    func splittingMatchesFoundation(_ text: String) {
        for separator in [";", ",", ";;", "\n", "", "·"] {
            #expect(FastText.split(text, separator: separator) == text.components(separatedBy: separator), "\(separator)")
        }
    }

    @Test(arguments: samples)
    func consentMatchesConsentValue(_ text: String) {
        #expect(FastText.consent(text) == ConsentValue.parse(text))
        #expect(FastText.consent(nil) == ConsentValue.parse(nil))
    }

    @Test func uniqueKeepsFirstSeenOrder() {
        #expect(FastText.unique(["b", "a", "b", "c", "a"]) == ["b", "a", "c"])
        #expect(FastText.unique([]) == [])
    }
}
