public import Foundation

/// The marks of operator alerts (`OperatorAlerts`): which events — an approval batch waiting, a
/// dead-lettered operation, overdue destructions — were mailed to the operators, so that each is
/// alerted once, across restarts and across the instances sharing one state.
///
/// Delivery is at least once, through two states. A mark is first *claimed* (inserted with the
/// claimant and the time; an existing mark is left alone, so of two instances only one gets a key),
/// then the mail is sent, then the mark becomes *sent* in one transaction with the mail's audit entry.
/// A mail that cannot be sent releases its claims, so the next check tries again. A claimant that
/// stops between claiming and marking leaves a claim that another check takes over once it is older
/// than the claim lease: its events are alerted late (or, when the mail had gone out, twice) rather
/// than never. A lost alert is worse than a repeated one, so no mark says "sent" before the mail
/// was accepted by the transport.
///
/// Keys name events only (`approval/contacts-1`, `dead/contacts/op-…`, `overdue/contacts`): no
/// personal data.
public protocol AlertStore: Sendable {
    /// Every mark, claimed or sent.
    func alertMarks() async throws -> [AlertMark]
    /// Claims these keys for `claimant`: a key without a mark is claimed, and so is one whose claim
    /// was made before `staleBefore` (its claimant stopped before sending); a sent key or a fresh
    /// claim is left alone. Returns the keys `claimant` now holds. Two claimants never both get a key.
    func claimAlerts(_ keys: [String], claimant: String, at: Date, staleBefore: Date) async throws -> Set<String>
    /// Marks the keys `claimant` holds as sent and appends `audit`, in one transaction.
    func markAlertsSent(_ keys: [String], claimant: String, at: Date, audit: [AuditDraft]) async throws
    /// Gives up `claimant`'s claims on these keys (their mail was not sent): the next check claims them again.
    func releaseAlerts(_ keys: [String], claimant: String) async throws
    /// Forgets the marks of events that ended (a batch approved, an operation retried, nothing overdue
    /// any more): sent marks, and claims made before `staleBefore`. The same key coming back later is
    /// a new event, alerted again.
    func forgetAlerts(_ keys: [String], staleBefore: Date) async throws
}

/// One alert mark.
public struct AlertMark: Sendable, Equatable {
    public enum State: String, Sendable { case claimed, sent }
    public var key: String
    public var state: State
    /// Who claimed it (an id of one check of one instance).
    public var claimant: String
    public var claimedAt: Date
    public var sentAt: Date?

    public init(key: String, state: State, claimant: String, claimedAt: Date, sentAt: Date? = nil) {
        self.key = key
        self.state = state
        self.claimant = claimant
        self.claimedAt = claimedAt
        self.sentAt = sentAt
    }
}
