public import Foundation
import Synchronization

/// A zone's offsets from GMT, answering exactly what `TimeZone.secondsFromGMT(for:)` answers.
///
/// Date arithmetic asks the zone for its offset once or twice per date of every record, and each
/// such question goes to ICU behind a lock. `ZoneOffsets.table(for:)` reads every transition of the
/// zone between 1900 and 2200 once per process (a few hundred for a zone with daylight saving time,
/// a dozen for Asia/Seoul) and answers from them by binary search; outside that range, or made with
/// `direct`, it asks the zone.
public struct ZoneOffsets: Sendable, Equatable {
    public let zone: TimeZone
    let table: Table?

    /// Asks the zone every time.
    public static func direct(_ zone: TimeZone) -> ZoneOffsets { ZoneOffsets(zone: zone, table: nil) }

    /// The zone's transition table, read once per zone identifier and shared.
    public static func table(for zone: TimeZone) -> ZoneOffsets {
        let identifier = zone.identifier
        if let table = tables.withLock({ $0[identifier] }), table.zone == zone { return ZoneOffsets(zone: zone, table: table) }
        let table = Table(zone: zone)
        tables.withLock { $0[identifier] = table }
        return ZoneOffsets(zone: zone, table: table)
    }

    private static let tables = Mutex<[String: Table]>([:])

    /// Offsets of the same zone are the same offsets, read from a table or not.
    public static func == (left: ZoneOffsets, right: ZoneOffsets) -> Bool { left.zone == right.zone }

    /// `zone.secondsFromGMT(for: date)`.
    @inline(__always)
    public func secondsFromGMT(for date: Date) -> Int {
        guard let table else { return zone.secondsFromGMT(for: date) }
        return table.offset(at: date.timeIntervalSince1970) ?? zone.secondsFromGMT(for: date)
    }

    final class Table: Sendable {
        /// 1900-01-01 and 2200-01-01 (UTC).
        static let low: Double = -2_208_988_800
        static let high: Double = 7_258_118_400

        let zone: TimeZone
        /// The instants from which each offset holds, ascending (the first is `low`).
        let starts: [Double]
        let offsets: [Int]

        init(zone: TimeZone) {
            var starts = [Self.low]
            var offsets = [zone.secondsFromGMT(for: Date(timeIntervalSince1970: Self.low))]
            var cursor = Date(timeIntervalSince1970: Self.low)
            while starts.count < 100_000, let next = zone.nextDaylightSavingTimeTransition(after: cursor),
                next.timeIntervalSince1970 < Self.high, next > cursor
            {
                let offset = zone.secondsFromGMT(for: next)
                if offset != offsets.last {
                    starts.append(next.timeIntervalSince1970)
                    offsets.append(offset)
                }
                cursor = next
            }
            self.zone = zone
            self.starts = starts
            self.offsets = offsets
        }

        /// The offset at `seconds` since 1970, nil outside the table.
        @inline(__always)
        func offset(at seconds: Double) -> Int? {
            guard seconds >= Self.low, seconds < Self.high else { return nil }
            return starts.withUnsafeBufferPointer { starts in
                var low = 0
                var high = starts.count - 1
                while low < high {
                    let middle = (low + high + 1) >> 1
                    if starts[middle] <= seconds { low = middle } else { high = middle - 1 }
                }
                return offsets[low]
            }
        }
    }
}
