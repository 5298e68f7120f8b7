import Foundation
import RetentionCore

/// The state of one `pull`: an open document read one batch at a time, only when the consumer asks.
actor CSVPullSession {
    private let configuration: CSVConnectorConfiguration
    private let batchSize: Int
    private let log: LogFunction
    private var document: CSVDocument?
    private var finished = false
    private var records = 0
    private var defects = 0

    init(configuration: CSVConnectorConfiguration, batchSize: Int, log: @escaping LogFunction) {
        self.configuration = configuration
        self.batchSize = batchSize
        self.log = log
    }

    /// The next batch, nil at the end. After an error the session is finished.
    func nextBatch() throws -> RecordBatch? {
        guard !finished else { return nil }
        do {
            let document = try self.document ?? CSVDocument(configuration)
            self.document = document
            var batch: [SourceRecord] = []
            batch.reserveCapacity(batchSize)
            while batch.count < batchSize, let row = try document.nextRow() {
                guard let record = document.record(of: row) else { continue }
                if record.defect != nil { defects += 1 }
                batch.append(record)
            }
            if batch.isEmpty {
                finish()
                log(
                    .info, "csv pull finished",
                    ["file": configuration.path.lastPathComponent, "records": "\(records)", "defects": "\(defects)"])
                return nil
            }
            records += batch.count
            return RecordBatch(records: batch)
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
