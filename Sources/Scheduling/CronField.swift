/// One of the five fields of a cron expression, as the set of values it allows.
struct CronField: Sendable, Hashable {
    /// What a field may contain.
    struct Kind: Sendable {
        var name: String
        var range: ClosedRange<Int>
        /// Three-letter names, the first standing for `range.lowerBound`.
        var names: [String] = []

        static let minute = Kind(name: "minute", range: 0...59)
        static let hour = Kind(name: "hour", range: 0...23)
        static let dayOfMonth = Kind(name: "day-of-month", range: 1...31)
        static let month = Kind(
            name: "month", range: 1...12,
            names: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
        )
        /// 0 and 7 are both Sunday; 7 is folded onto 0 after parsing.
        static let dayOfWeek = Kind(
            name: "day-of-week", range: 0...7, names: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
        )

        var isDayOfWeek: Bool { name == Self.dayOfWeek.name }
        /// The values `*` stands for: day-of-week's 7 is only an alias of Sunday.
        var starRange: ClosedRange<Int> { isDayOfWeek ? 0...6 : range }
    }

    /// Bit `n` is set when value `n` is allowed.
    private(set) var bits: UInt64
    /// The field began with `*` (`*` or `*/n`): vixie cron's rule for combining the day fields
    /// looks at this, not at which values are allowed.
    private(set) var isStar: Bool

    init(bits: UInt64, isStar: Bool) {
        self.bits = bits
        self.isStar = isStar
    }

    func contains(_ value: Int) -> Bool { bits & (1 << UInt64(value)) != 0 }

    /// The smallest allowed value ≥ `value`, if any.
    func next(from value: Int) -> Int? {
        guard value < 64 else { return nil }
        let rest = bits >> UInt64(max(value, 0))
        return rest == 0 ? nil : max(value, 0) + rest.trailingZeroBitCount
    }

    /// The largest allowed value ≤ `value`, if any.
    func previous(from value: Int) -> Int? {
        guard value >= 0 else { return nil }
        let shift = 63 - min(value, 63)
        let rest = bits << UInt64(shift)
        return rest == 0 ? nil : min(value, 63) - rest.leadingZeroBitCount
    }

    var first: Int? { next(from: 0) }
    var last: Int? { previous(from: 63) }
}

extension CronField {
    /// Parses `*`, `5`, `1-5`, `*/15`, `10-50/10`, `5/15` (5 to the end, every 15), names and
    /// comma-separated lists of these.
    init(parsing text: String, as kind: Kind) throws(CronError) {
        guard !text.isEmpty else { throw Self.error(kind, "cron.syntax", "is empty") }
        var bits: UInt64 = 0
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            bits |= try Self.parse(part: String(part), field: text, kind: kind)
        }
        if kind.isDayOfWeek, bits & (1 << 7) != 0 {
            bits = (bits & ~(1 << 7)) | 1
        }
        self.init(bits: bits, isStar: text.hasPrefix("*"))
    }

    private static func parse(part: String, field: String, kind: Kind) throws(CronError) -> UInt64 {
        guard !part.isEmpty else { throw error(kind, "cron.syntax", "empty item in list '\(field.prefix(40))'") }
        let pieces = part.split(separator: "/", omittingEmptySubsequences: false)
        guard pieces.count <= 2 else { throw error(kind, "cron.syntax", "more than one '/' in '\(part.prefix(40))'") }
        let base = String(pieces[0])
        var step = 1
        if pieces.count == 2 {
            guard let number = Int(pieces[1]), number > 0 else {
                throw error(
                    kind, "cron.syntax", "step must be a positive whole number, found '\(pieces[1].prefix(40))'")
            }
            guard number <= kind.range.count else {
                throw error(kind, "cron.range", "step \(number) is larger than the field's range \(rangeText(kind))")
            }
            step = number
        }
        let low: Int
        let high: Int
        if base == "*" {
            (low, high) = (kind.starRange.lowerBound, kind.starRange.upperBound)
        } else if let dash = base.firstIndex(of: "-") {
            low = try value(String(base[..<dash]), kind: kind)
            high = try value(String(base[base.index(after: dash)...]), kind: kind)
            guard low <= high else {
                throw error(
                    kind, "cron.range", "range '\(base.prefix(40))' runs backwards (write the smaller value first)")
            }
        } else {
            low = try value(base, kind: kind)
            high = pieces.count == 2 ? max(low, kind.starRange.upperBound) : low
        }
        var bits: UInt64 = 0
        for value in stride(from: low, through: high, by: step) { bits |= 1 << UInt64(value) }
        return bits
    }

    private static func value(_ text: String, kind: Kind) throws(CronError) -> Int {
        if let number = Int(text) {
            guard kind.range.contains(number) else {
                throw error(kind, "cron.range", "\(number) is out of range \(rangeText(kind))")
            }
            return number
        }
        if let index = kind.names.firstIndex(of: text.uppercased()) {
            return kind.range.lowerBound + index
        }
        if text.isEmpty { throw error(kind, "cron.syntax", "a range is missing a value") }
        let hint = kind.names.isEmpty ? "" : " or a name \(kind.names.first!)–\(kind.names.last!)"
        throw error(kind, "cron.syntax", "'\(text.prefix(40))' is not a number \(rangeText(kind))\(hint)")
    }

    private static func rangeText(_ kind: Kind) -> String {
        "\(kind.range.lowerBound)-\(kind.range.upperBound)"
    }

    static func error(_ kind: Kind, _ code: String, _ problem: String) -> CronError {
        CronError(code: code, field: kind.name, problem: problem)
    }
}
