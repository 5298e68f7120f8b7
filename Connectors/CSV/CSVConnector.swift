public import RetentionCore
import Foundation
import PrivateFiles

/// A CSV file as a record source and write-back target (`type: csv`).
///
/// Contracts:
/// - `pull` streams the file in 1 MiB chunks and yields batches of up to `batchSize` records, on
///   demand (a slow consumer holds back reading), so memory stays constant for any file size. The
///   header is line 1; `SourceRecord.line` is the physical line where a row starts; blank lines are
///   skipped but counted; a row with the wrong field count is yielded with a `defect` and no field
///   values. A quoted field that never closes fails the pull (`csv.unterminated_quote`, with its line):
///   it would swallow every later row. The encoding is decided on the whole file first (`CSVEncoding`).
/// - A file has no change tracking: every pull is a full pull (the request's watermark is ignored and
///   batches carry none). `check()` opens the file and reads its header (with `auto`, after the
///   whole-file encoding pass).
/// - `read(ids:)` is one streaming pass returning every row with one of the ids (duplicates included).
/// - `apply` changes the file in one atomic rewrite per call (temporary file in the same folder,
///   fsync, rename, folder fsync). Untouched rows, the byte order mark, line endings and the
///   encoding stay byte for byte; an erased field is re-encoded and quoted only when needed. A call
///   that changes nothing does not touch the file. An error thrown from `apply` means the file was
///   not changed. Calls on one connector are serialised; a file changed by someone else during a
///   rewrite is left alone (transient `csv.changed`).
/// - Nothing logged or thrown contains ids or field values: only counts, line numbers, column
///   names and the file's name.
public actor CSVConnector: ScanningSource, RecordWriter {
    public nonisolated let configuration: CSVConnectorConfiguration
    /// Records per pulled batch.
    public nonisolated let batchSize: Int
    nonisolated let log: LogFunction

    public init(
        configuration: CSVConnectorConfiguration,
        batchSize: Int = 1000,
        log: @escaping LogFunction = { _, _, _ in }
    ) {
        self.configuration = configuration
        self.batchSize = max(1, batchSize)
        self.log = log
    }

    /// The file exists and is readable, the delimiter is usable, and the header names every
    /// configured column and the id column.
    public nonisolated func check() async throws {
        _ = try CSVDocument(configuration)
    }

    public nonisolated func pull(_ request: PullRequest) -> AsyncThrowingStream<RecordBatch, any Error> {
        let session = CSVPullSession(configuration: configuration, batchSize: batchSize, log: log)
        return AsyncThrowingStream { try await session.nextBatch() }
    }

    /// `pull`, but rows whose id and bytes match `known` are reported by position without being
    /// decoded. A row's digest covers its bytes as they are in the file (line ending included) under
    /// the file's header.
    public nonisolated func scan(_ request: PullRequest, known: KnownRows, keys: ScanKeys) -> AsyncThrowingStream<ScanBatch, any Error> {
        let session = CSVScanSession(configuration: configuration, batchSize: max(batchSize, 5_000), known: known, keys: keys, log: log)
        return AsyncThrowingStream { try await session.nextBatch() }
    }

    public nonisolated func read(ids: [String]) async throws -> [SourceRecord] {
        try read(ids: ids, names: nil)
    }

    /// Decodes only the named columns of the rows found: a re-check of many records holds a few
    /// fields of each, not whole rows.
    public nonisolated func read(ids: [String], fields: [String]) async throws -> [SourceRecord] {
        try read(ids: ids, names: Set(fields))
    }

    private nonisolated func read(ids: [String], names: Set<String>?) throws -> [SourceRecord] {
        let wanted = Set(ids)
        guard !wanted.isEmpty else { return [] }
        let document = try CSVDocument(configuration)
        var found: [SourceRecord] = []
        while let row = try document.nextRow() {
            guard let id = document.id(of: row), wanted.contains(id), let record = document.record(of: row, names: names) else {
                continue
            }
            found.append(record)
        }
        return found
    }

    /// Removes the temporary copies an interrupted rewrite left beside the file (`.<name>.lethe-<UUID>.tmp`:
    /// they hold the rows kept). Write-backs run under the connector's run lock, so none is in use.
    private nonisolated func removeLeftovers(near path: String) {
        let url = URL(fileURLWithPath: path)
        let removed = PrivateFiles.removeLeftovers(in: url.deletingLastPathComponent().path) { PrivateFiles.isTemporary($0, of: url.lastPathComponent) }
        if !removed.isEmpty {
            log(.warning, "removed temporary files an interrupted write-back left beside the file", ["files": String(removed.count)])
        }
    }

    public func apply(_ operations: [WriteOperation]) async throws -> [OperationOutcome] {
        guard !operations.isEmpty else { return [] }
        let path = configuration.path.path
        let before = try CSVFileSystem.identity(of: path)
        removeLeftovers(near: path)
        let document = try CSVDocument(configuration)
        var withFields: [String: Set<String>] = [:]
        for operation in operations where operation.kind != .delete {
            withFields[operation.recordID, default: []].formUnion(operation.fields.map(\.field))
        }
        let targets = try CSVTargetRows.scan(document, ids: Set(operations.map(\.recordID)), withFields: withFields)
        let plan = CSVWritePlan(
            operations: operations, targets: targets, layout: document.layout, encoding: document.encoding)
        guard !plan.edits.isEmpty else { return plan.outcomes }
        let summary = try CSVRewriter(
            configuration: configuration, encoding: document.encoding, plan: plan, original: before
        ).run()
        if let warning = summary.folderSyncFailure {
            log(.warning, "csv write-back could not fsync the folder after the rename", ["error": warning])
        }
        log(
            .info, "csv write-back rewrote the file",
            [
                "file": configuration.path.lastPathComponent, "deletedRows": "\(summary.deletedRows)",
                "changedRows": "\(summary.changedRows)", "operations": "\(operations.count)",
            ])
        return plan.outcomes
    }
}
