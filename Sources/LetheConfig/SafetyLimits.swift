/// How much one run may delete from one connector before the batch waits for `lethe approve`.
public struct SafetyLimits: Sendable, Equatable, Hashable {
    /// At most this many deletes per run (0 means every delete needs approval).
    public var maxDeletesPerRun: Int
    /// At most this fraction (0...1) of the connector's live records per run.
    public var maxDeleteFraction: Double

    public init(maxDeletesPerRun: Int = 1000, maxDeleteFraction: Double = 0.2) {
        self.maxDeletesPerRun = maxDeletesPerRun
        self.maxDeleteFraction = maxDeleteFraction
    }
}
