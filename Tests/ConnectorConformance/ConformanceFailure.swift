/// A check that did not hold: names the check and what was wrong (ids and field names only).
public struct ConformanceFailure: Error, CustomStringConvertible, Sendable {
    public var check: ConformanceCheck
    public var message: String

    public init(check: ConformanceCheck, message: String) {
        self.check = check
        self.message = message
    }

    public var description: String { "\(check): \(message)" }
}
