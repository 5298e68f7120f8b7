/// One behaviour every connector with a source and a write-back must show. New cases reach every
/// connector through `@Test(arguments: ConformanceCheck.allCases)`.
///
/// Before each check, `runConformance` seeds the subject with `ConformanceFixtures.world` and
/// deletes `ConformanceFixtures.alreadyDeletedID`. Field values compare as raw text, a missing
/// field equal to an empty one.
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
    /// An erase changes the listed fields of that record only.
    case eraseChangesOnlyListedFields
    /// Erasing again is `.applied` and changes nothing more.
    case eraseIsIdempotent
    /// Erasing fields of an id that is gone is `.alreadyGone`.
    case eraseOfMissingIsAlreadyGone
    /// One outcome per operation, in order, within one call (a repeated delete is `.alreadyGone`).
    case outcomesFollowOperationOrder

    public var description: String { rawValue }
}
