/// `approval:` in the main config: who must release a batch held by the safety limits.
public struct ApprovalRules: Sendable, Equatable {
    /// A batch with more deletes (delete operations and records missing from the source) than this
    /// needs two approvals by two different authenticated operators; nil: one approval suffices.
    public var twoPersonAbove: Int?

    public init(twoPersonAbove: Int? = nil) {
        self.twoPersonAbove = twoPersonAbove
    }
}
