import Foundation
import RetentionCore

extension RESTCRMConnector {
    /// Deletes (batched where the manifest declares a batch request) and field updates (erasures,
    /// extensions), one outcome per operation in order. A failure of one request fails only the
    /// operations it carried.
    func apply(_ operations: [WriteOperation]) async throws -> [OperationOutcome] {
        var outcomes = [OperationOutcome?](repeating: nil, count: operations.count)
        let deletes = operations.indices.filter { operations[$0].kind == .delete }
        let updates = operations.indices.filter { [.eraseFields, .extend].contains(operations[$0].kind) }
        for index in operations.indices where ![.delete, .eraseFields, .extend].contains(operations[index].kind) {
            outcomes[index] = .failed(RESTCRMConnectorError(code: "rest.unsupported", message: "a REST CRM cannot \(operations[index].kind.rawValue)", isTransient: false))
        }
        if !updates.isEmpty {
            let results = try await concurrentMap(updates.map { operations[$0] }) { operation in await self.update(operation) }
            for (index, outcome) in zip(updates, results) { outcomes[index] = outcome }
        }
        if !deletes.isEmpty {
            let results = await delete(deletes.map { operations[$0].recordID })
            for (index, outcome) in zip(deletes, results) { outcomes[index] = outcome }
        }
        return outcomes.map { $0 ?? .failed(RESTCRMConnectorError(code: "rest.internal", message: "no outcome", isTransient: true)) }
    }

    // MARK: Updates

    private func update(_ operation: WriteOperation) async -> OperationOutcome {
        guard let spec = manifest.update else {
            return .failed(RESTCRMConnectorError(code: "rest.cannot_update", message: "the manifest declares no update request", isTransient: false))
        }
        do {
            let tables = try await optionTables()
            var fields: [String: JSONValue] = [:]
            for change in operation.fields {
                guard let field = spec.fields[change.field] else {
                    return .failed(RESTCRMConnectorError(
                        code: "rest.unmapped_field", message: "update.fields has no entry for '\(change.field)'", isTransient: false))
                }
                fields[field.name] = field.value(change.value, lookup: field.options.map { tables[$0] ?? OptionTable() })
            }
            var variables = TemplateVariables()
            variables["id"] = .string(operation.recordID)
            variables["fields"] = .object(fields)
            let request = spec.endpoint.request(variables)
            let result = try await client.send(request, expectJSON: false)
            if (200..<300).contains(result.status) { return .applied(detail: "updated \(fields.count) field(s)") }
            if isGone(result) { return .alreadyGone }
            return .failed(client.failure(for: request, result: result))
        } catch let failure as any ConnectorFailure {
            return .failed(failure)
        } catch {
            return .failed(RESTCRMConnectorError(code: "rest.update_failed", message: "update failed", isTransient: true))
        }
    }

    // MARK: Deletes

    /// Deletes each distinct id once; a repeated id in the same call is `.alreadyGone`.
    private func delete(_ requested: [String]) async -> [OperationOutcome] {
        var seen = Set<String>()
        let ids = requested.filter { seen.insert($0).inserted }
        var outcomes = await deleteDistinct(ids)
        var first = Set<String>()
        return requested.map { id in
            guard first.insert(id).inserted else { return .alreadyGone }
            return outcomes.removeValue(forKey: id) ?? .failed(RESTCRMConnectorError(code: "rest.delete_failed", message: "the delete was not sent", isTransient: true))
        }
    }

    private func deleteDistinct(_ ids: [String]) async -> [String: OperationOutcome] {
        guard let spec = manifest.delete else {
            let failure = RESTCRMConnectorError(code: "rest.cannot_delete", message: "the manifest declares no delete request", isTransient: false)
            return Dictionary(uniqueKeysWithValues: ids.map { ($0, OperationOutcome.failed(failure)) })
        }
        if spec.mode == .permanent, let job = spec.job {
            return await deleteThroughJobs(ids, spec: job)
        }
        var outcomes: [String: OperationOutcome] = [:]
        if let batch = spec.batch {
            for start in stride(from: 0, to: ids.count, by: spec.batchMax) {
                let chunk = Array(ids[start..<min(start + spec.batchMax, ids.count)])
                for (id, outcome) in await deleteBatch(chunk, endpoint: batch, spec: spec) { outcomes[id] = outcome }
            }
        }
        let remaining = ids.filter { outcomes[$0] == nil }
        if !remaining.isEmpty {
            if let one = spec.one {
                let results = (try? await concurrentMap(remaining) { id in await self.deleteOne(id, endpoint: one) }) ?? []
                for (id, outcome) in zip(remaining, results) { outcomes[id] = outcome }
            }
        }
        if spec.mode == .permanent, let purge = spec.purge {
            outcomes = await purgeDeleted(outcomes, endpoint: purge)
        }
        let now = context.clock.now()
        let receipt = spec.mode == .soft
            ? DeletionReceipt(mode: .soft, restorableUntil: spec.restorable.map { $0.added(to: now, in: TimeZone(secondsFromGMT: 0)!) })
            : DeletionReceipt(mode: .permanent)
        return outcomes.mapValues { outcome in
            if case .applied = outcome { return .deleted(receipt) }
            return outcome
        }
    }

    /// One batch request. A 2xx answer applies every id (or per item, with `results`; or the ids it
    /// lists, with `confirmedIDs`); a gone answer or a 4xx for the whole batch leaves the ids to single
    /// deletes when the manifest has them (a batch refused because of one id must not fail the others).
    private func deleteBatch(_ ids: [String], endpoint: Endpoint, spec: DeleteSpec) async -> [String: OperationOutcome] {
        var variables = TemplateVariables()
        variables["ids"] = .array(ids.map(JSONValue.string))
        let request = endpoint.request(variables)
        let result: HTTPResult
        do {
            result = try await client.send(request, expectJSON: spec.results != nil || spec.confirmedIDs != nil)
        } catch {
            return Dictionary(uniqueKeysWithValues: ids.map { ($0, .failed(Self.failure(error))) })
        }
        guard (200..<300).contains(result.status) else {
            let failure = client.failure(for: request, result: result)
            if spec.one != nil, !failure.isTransient { return [:] }
            return Dictionary(uniqueKeysWithValues: ids.map { ($0, .failed(failure)) })
        }
        if let confirmed = spec.confirmedIDs {
            return await settleConfirmed(ids, listed: Self.listedIDs(in: result.body, at: confirmed))
        }
        guard let results = spec.results else {
            return Dictionary(uniqueKeysWithValues: ids.map { ($0, .applied(detail: "batch delete")) })
        }
        guard let json = try? RecordMapping.document(result.body) else {
            return Dictionary(uniqueKeysWithValues: ids.map { ($0, .failed(RESTCRMConnectorError.badBody("batch delete results"))) })
        }
        let found = results.records.map { $0.evaluate(json) } ?? json
        guard case .array(let items)? = found else {
            return Dictionary(uniqueKeysWithValues: ids.map { ($0, .failed(RESTCRMConnectorError.badBody("no per-item results"))) })
        }
        var outcomes: [String: OperationOutcome] = [:]
        for item in items {
            guard let id = results.id.evaluate(item)?.text else { continue }
            if results.success.evaluate(item)?.text == "true" {
                outcomes[id] = .applied(detail: "batch delete")
                continue
            }
            let code = results.code?.evaluate(item)?.text
            if let code, manifest.gone.codes.contains(code) {
                outcomes[id] = .alreadyGone
            } else {
                outcomes[id] = .failed(itemRefused(code, by: request.summary))
            }
        }
        // An id the provider did not answer for is retried later.
        for id in ids where outcomes[id] == nil {
            outcomes[id] = .failed(RESTCRMConnectorError(code: "rest.item_missing", message: "the batch answer has no result for an item", isTransient: true))
        }
        return outcomes
    }

    /// A batch item (or a job row) the provider refused with `code`: permanent, unless the manifest
    /// lists the code under `errors.transient` (a passing condition such as a locked row).
    func itemRefused(_ code: String?, by summary: String) -> RESTCRMConnectorError {
        RESTCRMConnectorError(
            code: "rest.item_failed", message: "\(summary): item refused (\(code ?? "no code"))",
            isTransient: code.map(manifest.http.transientCodes.contains) ?? false)
    }

    /// The ids a 2xx batch answer lists at `path`: an array of ids, or one id. Anything else (no
    /// list, a body that is not JSON) confirms none.
    static func listedIDs(in body: Data, at path: JSONPath) -> Set<String> {
        guard let json = try? RecordMapping.document(body) else { return [] }
        switch path.evaluate(json) {
        case .array(let items)?: return Set(items.compactMap(\.text))
        case let value?: return value.text.map { [$0] } ?? []
        case nil: return []
        }
    }

    /// `confirmedIDs`: an id the answer lists is deleted. Any other id of the batch is re-read the way
    /// the re-check before a delete reads it: absent (404/410, a `gone` code, `absentWhen`) is already
    /// gone; still there is a transient failure, retried later; a re-read that fails is that failure.
    /// So no id is reported deleted without the provider naming it, and none is failed for good
    /// because an answer left it out.
    private func settleConfirmed(_ ids: [String], listed: Set<String>) async -> [String: OperationOutcome] {
        var outcomes: [String: OperationOutcome] = [:]
        for id in ids where listed.contains(id) { outcomes[id] = .applied(detail: "batch delete") }
        let unconfirmed = ids.filter { !listed.contains($0) }
        guard !unconfirmed.isEmpty else { return outcomes }
        do {
            let present = Set(try await read(ids: unconfirmed).map(\.id))
            for id in unconfirmed {
                outcomes[id] = present.contains(id)
                    ? .failed(RESTCRMConnectorError(
                        code: "rest.item_unconfirmed", message: "the batch answer does not list an item, which is still there",
                        isTransient: true))
                    : .alreadyGone
            }
        } catch {
            for id in unconfirmed { outcomes[id] = .failed(Self.failure(error)) }
        }
        return outcomes
    }

    private func deleteOne(_ id: String, endpoint: Endpoint) async -> OperationOutcome {
        var variables = TemplateVariables()
        variables["id"] = .string(id)
        let request = endpoint.request(variables)
        do {
            let result = try await client.send(request, expectJSON: false)
            if isGone(result) { return .alreadyGone }
            if (200..<300).contains(result.status) { return .applied(detail: "deleted") }
            return .failed(client.failure(for: request, result: result))
        } catch {
            return .failed(Self.failure(error))
        }
    }

    /// Permanent mode: the follow-up request that removes deleted records for good (per id or for
    /// all ids at once). Until it succeeds the delete is not done (a retry finds the record gone
    /// and purges again).
    private func purgeDeleted(_ outcomes: [String: OperationOutcome], endpoint: Endpoint) async -> [String: OperationOutcome] {
        var updated = outcomes
        let deleted = outcomes.compactMap { id, outcome -> String? in
            switch outcome {
            case .applied, .alreadyGone, .deleted: return id
            case .failed: return nil
            }
        }.sorted()
        guard !deleted.isEmpty else { return updated }
        let perID = endpoint.variables.contains("id")
        let groups = perID ? deleted.map { [$0] } : [deleted]
        for group in groups {
            var variables = TemplateVariables()
            variables["ids"] = .array(group.map(JSONValue.string))
            variables["id"] = .string(group[0])
            let request = endpoint.request(variables)
            do {
                let result = try await client.send(request, expectJSON: false)
                // A gone answer confirms one id only: for a request naming several, it is a failure.
                guard (200..<300).contains(result.status) || (perID && isGone(result)) else {
                    for id in group { updated[id] = .failed(client.failure(for: request, result: result)) }
                    continue
                }
                for id in group { updated[id] = .applied(detail: "deleted permanently") }
            } catch {
                for id in group { updated[id] = .failed(Self.failure(error)) }
            }
        }
        return updated
    }

    static func failure(_ error: any Error) -> any ConnectorFailure {
        if let failure = error as? any ConnectorFailure { return failure }
        if error is CancellationError {
            return RESTCRMConnectorError(code: "rest.cancelled", message: "cancelled", isTransient: true)
        }
        return RESTCRMConnectorError(code: "rest.transport", message: "the request failed: \(type(of: error))", isTransient: true)
    }
}
