import Foundation
import RetentionCore

/// The state of one `scan`: like `CSVPullSession`, but a row whose id and bytes match a known row is
/// reported by position only — its fields are never decoded (the common case of a re-sync).
actor CSVScanSession {
    private let configuration: CSVConnectorConfiguration
    private let batchSize: Int
    private let known: KnownRows
    private let keys: ScanKeys
    private let log: LogFunction
    private var document: CSVDocument?
    private var digests: RowDigester?
    private var finished = false
    private var rows = 0
    private var unchanged = 0

    init(configuration: CSVConnectorConfiguration, batchSize: Int, known: KnownRows, keys: ScanKeys, log: @escaping LogFunction) {
        self.configuration = configuration
        self.batchSize = batchSize
        self.known = known
        self.keys = keys
        self.log = log
    }

    /// The next batch, nil at the end. After an error the session is finished.
    func nextBatch() throws -> ScanBatch? {
        guard !finished else { return nil }
        do {
            let document = try self.document ?? CSVDocument(configuration)
            if self.document == nil {
                self.document = document
                // The same line under another header is another row.
                digests = document.preamble.withUnsafeBytes { keys.digests.mixing($0) }
            }
            guard let digests else { return nil }
            var batch = ScanBatch()
            var taken = 0
            // With the policy: only the fields it reads are decoded, straight from the row's bytes.
            let readFacts: ((CSVRowSpan, String) -> SourceFacts)? = keys.reading.map { reading in
                let policy = reading.policy
                let layout = reading.layout
                let columns = layout.fields.map { document.layout.indexByCanonical[$0] }
                let encoding = document.encoding
                return { row, id in
                    document.reader.withBytes { bytes in
                        policy.facts(
                            reading: { position in
                                guard let column = columns[position], column < row.fields.count else { return nil }
                                return CSVDocument.value(of: bytes, row: row, field: row.fields[column], encoding: encoding)
                            }, id: id, defect: document.defect(of: row), layout: layout)
                    }
                }
            }
            while taken < batchSize, let row = try document.nextRow() {
                guard !row.isBlank else { continue }
                taken += 1
                let digest = document.reader.withBytes { bytes in
                    digests.digest(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[row.start..<row.end])))
                }
                let id = document.id(of: row) ?? ""
                let key = id.isEmpty ? 0 : keys.fingerprints.key(connector: keys.connector, id: id)
                if !id.isEmpty, let index = known.index(of: key), known.digests[index] != 0, known.digests[index] == digest {
                    batch.unchanged.append(UnchangedRow(index: Int32(index), line: Int32(clamping: row.line)))
                    continue
                }
                if let readFacts {
                    batch.rows.append(ScannedRow(id: id, line: row.line, key: key, digest: digest, content: .facts(readFacts(row, id))))
                } else if let record = document.record(of: row) {
                    batch.rows.append(ScannedRow(id: id, line: row.line, key: key, digest: digest, content: .record(record)))
                }
            }
            if taken == 0 {
                finish()
                log(.info, "csv scan finished", [
                    "file": configuration.path.lastPathComponent, "rows": "\(rows)", "unchanged": "\(unchanged)",
                ])
                return nil
            }
            rows += taken
            unchanged += batch.unchanged.count
            return batch
        } catch {
            finish()
            throw error
        }
    }

    private func finish() {
        finished = true
        document = nil
    }
}

