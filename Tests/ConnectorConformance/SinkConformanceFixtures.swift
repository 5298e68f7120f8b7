public import Foundation
public import RetentionCore

/// The notices and archive entries sink checks deliver. All names, addresses and numbers are
/// invented; the texts are the hard cases of real notices (Korean, long subjects that fold, lines
/// starting with a dot, HTML).
public enum SinkConformanceFixtures {
    /// 2026-11-29T03:00:00.123Z: a date with milliseconds.
    public static let date = Date(timeIntervalSince1970: 1_795_921_200.123)
    public static let sender = "Lethe 개인정보팀 <privacy@lethe.example>"
    public static let recipientName = "김민준"
    public static let subject = "[개인정보 보유기간 만료 안내] 김민준님의 개인정보 보유기간이 곧 만료됩니다 — 연장하시려면 아래 링크를 눌러 주세요"
    public static let textBody = """
        안녕하세요 김민준님,
        고객님의 개인정보 보유기간이 2026-12-31에 만료됩니다.
        연장: https://lethe.example/consent/abc
        .
        ..점으로 시작하는 줄, "따옴표", 쉼표
        똠얌꿍 🍜

        """
    public static let htmlBody =
        "<p>안녕하세요 <b>김민준</b>님</p>\n<p><a href=\"https://lethe.example/consent/abc\">연장</a></p>\n"

    /// A valid notice; `number` makes the operation id and the address distinct.
    public static func notice(_ check: SinkConformanceCheck, _ number: Int, html: Bool = true) -> Notice {
        Notice(
            operationID: "op-\(check)-\(number)", recipient: "minjun\(number)@example.com",
            recipientName: recipientName, sender: sender, subject: subject, textBody: textBody,
            htmlBody: html ? htmlBody : nil, date: date)
    }

    /// Recipients that are not one mailbox: not an address, an address with a display name but no
    /// angle bracket closing it, and one smuggling a second recipient line.
    public static let badRecipients = [
        "김민준 minjun.example.com", "minjun@example.com>\r\nRCPT TO:<other@evil.example", "minjun@@example.com",
    ]

    /// A notice whose recipient is `badRecipients[index]`.
    public static func badNotice(_ check: SinkConformanceCheck, _ index: Int) -> Notice {
        var notice = notice(check, 900 + index)
        notice.recipient = badRecipients[index]
        return notice
    }

    /// What a notice should read back as.
    public static func readBack(_ notice: Notice) -> ReadBackNotice {
        ReadBackNotice(
            recipient: notice.recipient, recipientName: notice.recipientName, subject: notice.subject,
            textBody: notice.textBody, htmlBody: notice.htmlBody)
    }

    /// The connector name archive entries use.
    public static let connector = "contacts"

    /// Connector names that cannot be folder names: a path out of the archive, a nested path,
    /// empty, hidden, non-ASCII, with a space.
    public static let unsafeConnectorNames = ["../contacts", "contacts/other", "", ".hidden", "연락처", "a b"]

    /// An entry with Korean fields, several rules and a date with milliseconds; `number` makes the
    /// operation id, the record and its values distinct.
    public static func entry(
        _ check: SinkConformanceCheck, _ number: Int, connector: String = connector
    ) -> ArchiveEntry {
        ArchiveEntry(
            operationID: "op-\(check)-\(number)", connector: connector, recordID: "c-\(number)-김",
            reference: "ref-\(check)-\(number)",
            fields: [
                "name": "김민준\(number)", "email": "minjun\(number)@example.com", "phone": "010-1234-\(5600 + number)",
                "interests": "등산, \"캠핑\"\n똠얌꿍 요리", "empty": "", "memo": "tab\tand \\ backslash 🍜",
            ],
            rules: ["payment-records", "marketing"],
            archivedAt: date.addingTimeInterval(Double(number) * 86_400.001))
    }
}
