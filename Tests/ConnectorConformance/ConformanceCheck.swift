/// One behaviour every connector with a source and a write-back must show. New cases reach every
/// connector through `@Test(arguments: ConformanceCheck.allCases)`.
///
/// Before each check, `runConformance` seeds the subject with `ConformanceFixtures.world` and
/// deletes `ConformanceFixtures.alreadyDeletedID`. Field values compare as the subject presents
/// them (raw text unless it says otherwise), a missing field equal to an empty one.
///
/// The checks after `outcomesFollowOperationOrder` change the system behind the connector or make it
/// fail: they need the subject's `ConformanceBackend`, or an exclusion with its reason.
public enum ConformanceCheck: String, CaseIterable, Sendable, CustomStringConvertible {
    /// `check()` succeeds on a healthy source.
    case checkSucceeds
    /// A full pull yields every live record exactly once, and not the deleted one.
    case pullYieldsEveryRecordOnce
    /// Pulled records carry the seeded field values unchanged (Korean text, comma, quote, newline,
    /// missing and odd dates).
    case pullKeepsFieldValues
    /// `read(ids:)` returns the records as they are now, after a change.
    case readReturnsCurrentRecords
    /// `read(ids:)` leaves out unknown and deleted ids.
    case readOmitsMissingIDs
    /// A delete is `.applied`; afterwards neither pull nor read returns the record.
    case deleteRemovesRecord
    /// Deleting again is `.alreadyGone`.
    case deleteIsIdempotent
    /// Deleting an id that is already gone, or never existed, is `.alreadyGone`.
    case deleteOfMissingIsAlreadyGone
    /// A delete changes no other record.
    case deleteLeavesOthersUntouched
    /// An erase changes the listed fields of that record only (erased as the engine erases: an empty
    /// value, `N` for `marketing_consent`).
    case eraseChangesOnlyListedFields
    /// Erasing again is `.applied` and changes nothing more.
    case eraseIsIdempotent
    /// Erasing fields of an id that is gone is `.alreadyGone`.
    case eraseOfMissingIsAlreadyGone
    /// One outcome per operation, in order, within one call (a repeated delete is `.alreadyGone`).
    case outcomesFollowOperationOrder
    /// A record changed in the system after a pull (its creation date moved, so it is no longer due)
    /// reads back changed: the re-check before a delete sees the new value, not the listed one.
    case rereadSeesChangeAfterList
    /// A batch delete whose answer leaves ids out: those ids fail (neither deleted nor already
    /// gone) and stay in the system's reach; the others are deleted.
    case batchAnswerLeavingIDsOutDeletesOnlyTheRest
    /// Every request failing as a whole (503): no record gets a verdict. A delete is `.failed` and
    /// transient (or the call throws a transient error), a read throws instead of answering "none
    /// left", a pull throws; the records are all still there afterwards.
    case wholeRequestFailureGivesNoVerdict
    /// Rate limits (429), unavailability (503) and timeouts are transient; a bad request (400),
    /// refused credentials (401, 403) and an endpoint that does not exist (404) are permanent.
    case errorsAreClassified
    /// No error a fault provokes (in a pull, a read or a delete) holds a secret of the subject or a
    /// fixture's e-mail, name or phone.
    case errorsHoldNoSecretOrPersonalData

    public var description: String { rawValue }
}
