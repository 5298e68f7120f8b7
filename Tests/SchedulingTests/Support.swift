import Foundation

/// Zones the tests use.
enum Zones {
    static let newYork = TimeZone(identifier: "America/New_York")!
    static let seoul = TimeZone(identifier: "Asia/Seoul")!
    static let utc = TimeZone(identifier: "UTC")!
    static let lordHowe = TimeZone(identifier: "Australia/Lord_Howe")!
}

/// An instant written in ISO 8601 with an explicit offset: `2025-11-02T01:30:00-04:00`.
func at(_ text: String) -> Date {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime]
    guard let date = formatter.date(from: text) else { fatalError("bad test date \(text)") }
    return date
}

/// The instant as `yyyy-MM-dd HH:mm ZZZZZ` in a zone, for readable expectations.
func wall(_ date: Date?, _ zone: TimeZone) -> String {
    guard let date else { return "nil" }
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = zone
    formatter.dateFormat = "yyyy-MM-dd HH:mm xxx"
    return formatter.string(from: date)
}
