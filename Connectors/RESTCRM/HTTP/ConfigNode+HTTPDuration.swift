import Foundation
import RetentionCore

extension ConfigNode {
    /// A duration written as a number and a unit: `250ms`, `30s`, `1.5s`, `2m`, `1h`. A bare number
    /// is refused (seconds or milliseconds would be a guess).
    func httpDuration() throws(ConfigError) -> Duration {
        let text = try string().trimmingCharacters(in: .whitespaces)
        guard let duration = Self.parseDuration(text) else {
            throw error("config.duration", "expected a duration such as 250ms, 30s or 2m, found '\(text.prefix(40))'")
        }
        return duration
    }

    /// A duration that must be more than zero.
    func positiveHTTPDuration() throws(ConfigError) -> Duration {
        let duration = try httpDuration()
        guard duration > .zero else { throw error("config.range", "must be more than zero") }
        return duration
    }

    static func parseDuration(_ text: String) -> Duration? {
        let number = text.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
        let unit = text.dropFirst(number.count).trimmingCharacters(in: .whitespaces).lowercased()
        guard !number.isEmpty, let value = Double(number), value.isFinite, value >= 0 else { return nil }
        let milliseconds: Double
        switch unit {
        case "ms": milliseconds = value
        case "s": milliseconds = value * 1000
        case "m", "min": milliseconds = value * 60_000
        case "h": milliseconds = value * 3_600_000
        default: return nil
        }
        guard milliseconds < 1e12 else { return nil }
        return .milliseconds(Int64(milliseconds.rounded()))
    }
}

/// Conversions between `Duration` and seconds, kept out of `Duration`'s namespace.
enum HTTPTime {
    static func seconds(_ duration: Duration) -> Double {
        let (whole, fraction) = duration.components
        return Double(whole) + Double(fraction) / 1e18
    }

    static func duration(seconds: Double) -> Duration {
        .nanoseconds(Int64((min(max(0, seconds), 1e9) * 1e9).rounded()))
    }

    /// A short text for logs: `250ms`, `1.5s`.
    static func text(_ duration: Duration) -> String {
        let seconds = seconds(duration)
        if seconds < 1 { return "\(Int((seconds * 1000).rounded()))ms" }
        return "\((seconds * 10).rounded() / 10)s"
    }
}
