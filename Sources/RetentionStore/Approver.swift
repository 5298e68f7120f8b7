public import Foundation

/// Who gives an approval. Only an authenticated operator (`operatorName` set: a configured
/// operator's own token, or `admin` with `LETHE_ADMIN_TOKEN`, checked by the daemon or by
/// `lethe approve --token-env`) counts toward the four-eyes rule; a name the caller merely stated
/// (`lethe approve --by`) approves only batches that need one approval.
public struct Approver: Sendable, Equatable {
    /// The authenticated operator; nil for a stated name.
    public var operatorName: String?
    /// What the audit log and the destruction register show for this approval.
    public var recordedAs: String

    public init(operatorName: String?, recordedAs: String) {
        self.operatorName = operatorName
        self.recordedAs = recordedAs
    }

    /// An operator who proved who they are (recorded by name unless `recordedAs` says otherwise).
    public static func authenticated(_ name: String, recordedAs: String? = nil) -> Approver {
        Approver(operatorName: name, recordedAs: recordedAs ?? name)
    }

    /// A name given without proof (`--by`, `$USER`).
    public static func stated(_ name: String) -> Approver {
        Approver(operatorName: nil, recordedAs: name)
    }
}

/// One operator's approval of a batch that is still open (the first of two under the four-eyes rule).
public struct ApprovalSignoff: Sendable, Equatable, Codable {
    /// The authenticated operator.
    public var operatorName: String
    /// What the audit log shows for it.
    public var recordedAs: String
    public var at: Date

    public init(operatorName: String, recordedAs: String, at: Date) {
        self.operatorName = operatorName
        self.recordedAs = recordedAs
        self.at = at
    }
}
