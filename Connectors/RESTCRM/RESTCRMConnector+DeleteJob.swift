import Foundation
import RetentionCore

extension RESTCRMConnector {
    /// Permanent deletes through bulk jobs (`delete.job`), `job.max` ids a job, one job after another.
    ///
    /// Contract: a record is `.deleted` only when the job's successful results name it, `.alreadyGone`
    /// only when its failed results name it with a `gone` code. A job that fails as a whole (a refused
    /// request, state `Failed` or `Aborted`, no end within `poll.timeout`, unreadable results) is a
    /// failure of every id it carried, never a verdict on them; an id in neither result file fails
    /// (transient) and is retried. Cancellation ends the wait at once; the job's ids then fail as
    /// cancelled (transient).
    func deleteThroughJobs(_ ids: [String], spec: DeleteJobSpec) async -> [String: OperationOutcome] {
        var outcomes: [String: OperationOutcome] = [:]
        for start in stride(from: 0, to: ids.count, by: spec.max) {
            let chunk = Array(ids[start..<min(start + spec.max, ids.count)])
            for (id, outcome) in await runJob(chunk, spec: spec) { outcomes[id] = outcome }
        }
        return outcomes
    }

    private func runJob(_ ids: [String], spec: DeleteJobSpec) async -> [String: OperationOutcome] {
        let jobID: String
        do {
            jobID = try await createJob(spec)
        } catch {
            return Dictionary(uniqueKeysWithValues: ids.map { ($0, .failed(Self.failure(error))) })
        }
        do {
            try await sendJobStep(jobRequest(spec, "PUT", "/\(encoded(jobID))/batches", "/{jobId}/batches",
                                             body: Self.csv(ids), contentType: "text/csv"))
            try await sendJobStep(jobRequest(spec, "PATCH", "/\(encoded(jobID))", "/{jobId}", body: Self.state("UploadComplete")))
        } catch {
            // Not closed, so never processed: abort it so it does not linger open (best effort).
            _ = try? await client.send(jobRequest(spec, "PATCH", "/\(encoded(jobID))", "/{jobId}", body: Self.state("Aborted")), expectJSON: false)
            return Dictionary(uniqueKeysWithValues: ids.map { ($0, .failed(Self.failure(error))) })
        }
        do {
            try await waitForEnd(jobID, spec: spec)
            let succeeded = try await results(jobID, "successfulResults", spec: spec)
            let failed = try await results(jobID, "failedResults", spec: spec)
            return outcomes(ids, succeeded: succeeded, failed: failed, spec: spec)
        } catch {
            return Dictionary(uniqueKeysWithValues: ids.map { ($0, .failed(Self.failure(error))) })
        }
    }

    /// Creates the job and answers its id.
    private func createJob(_ spec: DeleteJobSpec) async throws -> String {
        let body = JSONValue.object([
            "object": .string(spec.object), "operation": .string(spec.operation),
            "contentType": .string("CSV"), "lineEnding": .string("LF"),
        ])
        let request = jobRequest(spec, "POST", "", "", body: body.serialized())
        let result = try await client.send(request, expectJSON: true)
        guard (200..<300).contains(result.status) else { throw client.failure(for: request, result: result) }
        guard let id = try RecordMapping.document(result.body)["id"]?.scalarText, !id.isEmpty else {
            throw RESTCRMConnectorError(code: "rest.bad_body", message: "\(request.summary) answered no job id", isTransient: true)
        }
        return id
    }

    private func sendJobStep(_ request: HTTPRequestSpec) async throws {
        let result = try await client.send(request, expectJSON: false)
        guard (200..<300).contains(result.status) else { throw client.failure(for: request, result: result) }
    }

    /// Polls the job until `JobComplete`; throws for `Failed`, `Aborted` and a job still running at
    /// `poll.timeout`. Waits on the real clock (`--as-of` fixes the policy's clock, not the provider's).
    private func waitForEnd(_ jobID: String, spec: DeleteJobSpec) async throws {
        let request = jobRequest(spec, "GET", "/\(encoded(jobID))", "/{jobId}")
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: spec.timeout)
        var wait = spec.pollInitial
        while true {
            let result = try await client.send(request, expectJSON: true)
            guard (200..<300).contains(result.status) else { throw client.failure(for: request, result: result) }
            let state = try RecordMapping.document(result.body)["state"]?.text ?? ""
            switch state {
            case "JobComplete":
                return
            case "Failed":
                throw RESTCRMConnectorError(code: "rest.job_failed", message: "\(request.summary): the job ended Failed", isTransient: true)
            case "Aborted":
                throw RESTCRMConnectorError(code: "rest.job_aborted", message: "\(request.summary): the job was aborted", isTransient: false)
            default:
                break
            }
            let left = clock.now.duration(to: deadline)
            guard left > .zero else {
                throw RESTCRMConnectorError(
                    code: "rest.job_pending", message: "\(request.summary): the job had not ended after \(HTTPTime.text(spec.timeout))",
                    isTransient: true)
            }
            try await Task.sleep(for: min(wait, left))
            wait = min(wait * 2, spec.pollMax)
        }
    }

    /// One result file: per row, the id as uploaded (the `Id` column, else `sf__Id`) and `sf__Error`.
    private func results(_ jobID: String, _ file: String, spec: DeleteJobSpec) async throws -> [(id: String, error: String?)] {
        var request = jobRequest(spec, "GET", "/\(encoded(jobID))/\(file)/", "/{jobId}/\(file)/")
        request.headers.append((name: "Accept", value: "text/csv"))
        let result = try await client.send(request, expectJSON: false)
        guard (200..<300).contains(result.status) else { throw client.failure(for: request, result: result) }
        let table = CSVRows(result.body)
        let uploaded = table.column("Id")
        let salesforceID = table.column("sf__Id")
        let error = table.column("sf__Error")
        guard table.rows.isEmpty || uploaded != nil || salesforceID != nil else {
            throw RESTCRMConnectorError(code: "rest.bad_body", message: "\(request.summary) answered a CSV without an id column", isTransient: true)
        }
        return table.rows.compactMap { row in
            let id = [CSVRows.value(row, uploaded), CSVRows.value(row, salesforceID)].compactMap { $0 }.first { !$0.isEmpty }
            return id.map { ($0, CSVRows.value(row, error)) }
        }
    }

    private func outcomes(
        _ ids: [String], succeeded: [(id: String, error: String?)], failed: [(id: String, error: String?)], spec: DeleteJobSpec
    ) -> [String: OperationOutcome] {
        let requested = Set(ids)
        let receipt = DeletionReceipt(mode: .permanent, method: spec.method)
        let succeededIDs = Set(succeeded.map(\.id))
        var outcomes: [String: OperationOutcome] = [:]
        for id in succeededIDs where requested.contains(id) { outcomes[id] = .deleted(receipt) }
        for row in failed where requested.contains(row.id) {
            // Named in both files: conflicting answers confirm nothing.
            if succeededIDs.contains(row.id) {
                outcomes[row.id] = Self.unconfirmed
                continue
            }
            let code = row.error.map { String($0.prefix { $0 != ":" }) }.flatMap { $0.isEmpty ? nil : $0 }
            if let code, spec.gone.contains(code) || manifest.gone.codes.contains(code) {
                outcomes[row.id] = .alreadyGone
            } else {
                outcomes[row.id] = .failed(itemRefused(code, by: "\(spec.operation) job"))
            }
        }
        for id in ids where outcomes[id] == nil { outcomes[id] = Self.unconfirmed }
        return outcomes
    }

    private static var unconfirmed: OperationOutcome {
        .failed(RESTCRMConnectorError(code: "rest.item_missing", message: "the job's results have no result for an item", isTransient: true))
    }

    private func jobRequest(
        _ spec: DeleteJobSpec, _ method: String, _ suffix: String, _ display: String, body: Data? = nil, contentType: String? = nil
    ) -> HTTPRequestSpec {
        var headers: [(name: String, value: String)] = []
        if let contentType { headers.append((name: "Content-Type", value: contentType)) }
        return HTTPRequestSpec(method: method, path: spec.path + suffix, headers: headers, body: body, displayPath: spec.path + display)
    }

    private func encoded(_ jobID: String) -> String {
        jobID.addingPercentEncoding(withAllowedCharacters: Endpoint.segmentCharacters) ?? jobID
    }

    /// `Id` then one id a line (LF); an id with a comma, quote or line break is quoted.
    static func csv(_ ids: [String]) -> Data {
        let lines = ids.map { id in
            id.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
                ? "\"" + id.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : id
        }
        return Data((["Id"] + lines).joined(separator: "\n").appending("\n").utf8)
    }

    private static func state(_ state: String) -> Data {
        JSONValue.object(["state": .string(state)]).serialized()
    }
}
