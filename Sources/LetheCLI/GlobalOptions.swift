import ArgumentParser
import Foundation
import RetentionCore

/// The flags every command shares.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "The configuration file.")
    var config: String = "config/lethe.yaml"

    @Option(name: .customLong("as-of"), help: "Fix \"now\" for the whole command (ISO-8601, e.g. 2026-11-29T09:00:00+09:00).")
    var asOf: String?

    @Flag(name: .long, help: "Print one JSON object on one line, last on stdout (same as --format json).")
    var json = false

    @Flag(name: .shortAndLong, help: "Log progress to stderr.")
    var verbose = false

    /// The instant of `--as-of`, read in `zone` when it has no offset; the system clock otherwise.
    func clock(zone: TimeZone) throws -> any LetheClock {
        guard let asOf else { return SystemClock() }
        guard let date = DateParser(zone: zone).parse(asOf) else {
            throw ValidationError("--as-of: '\(asOf)' is not a date (use e.g. 2026-11-29T09:00:00+09:00 or 2026-11-29)")
        }
        return FixedClock(date)
    }
}

/// JSON in one line: sorted keys, ISO-8601 dates.
enum JSONOutput {
    static func line(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return (try? String(decoding: encoder.encode(value), as: UTF8.self)) ?? "{}"
    }
}
