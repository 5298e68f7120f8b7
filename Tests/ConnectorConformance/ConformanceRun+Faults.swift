import RetentionCore

/// The checks that change the system behind the connector or make it fail.
extension ConformanceRun {
    /// The creation date `rereadSeesChangeAfterList` moves a record to (after the policies' "now"
    /// for any plausible run: the record is no longer due).
    static let changedCreation = "2026-11-20T09:00:00+09:00"

    func rereadSeesChangeAfterList() async throws {
        let listed = try await pullAll()
        try expect(listed.contains { $0.id == ConformanceFixtures.normalID }, "the pull misses \(ConformanceFixtures.normalID)")
        try await backend().change(id(ConformanceFixtures.normalID), fields: ["created_at": Self.changedCreation])
        var changed = try fixture(ConformanceFixtures.normalID)
        changed.fields["created_at"] = Self.changedCreation
        let reread = try await read([ConformanceFixtures.normalID, ConformanceFixtures.koreanID])
        try expectMatches(reread, [changed, try fixture(ConformanceFixtures.koreanID)])
    }

    func batchAnswerLeavingIDsOutDeletesOnlyTheRest() async throws {
        let left = ConformanceFixtures.normalID
        let kept = [ConformanceFixtures.koreanID, "c-feb29"]
        try await backend().inject(.omitFromBatchAnswers([id(left)]))
        let outcomes = try await writer.apply([delete(kept[0]), delete(left), delete(kept[1])])
        try await backend().clearFaults()
        try expect(outcomes.count == 3, "\(outcomes.count) outcomes for 3 deletes")
        guard case .failed = outcomes[1] else {
            throw failure("the id left out of the batch answer is \(name(outcomes[1])), expected failed")
        }
        for index in [0, 2] {
            switch outcomes[index] {
            case .applied, .deleted: continue
            default: throw failure("a delete the batch answer confirmed is \(name(outcomes[index])), expected applied")
            }
        }
        let remaining = try await read([left] + kept).map(\.id)
        try expect(remaining == [left], "after the batch, \(remaining) remain, expected [\(left)]")
    }

    func wholeRequestFailureGivesNoVerdict() async throws {
        let ids = [ConformanceFixtures.normalID, ConformanceFixtures.koreanID]
        try await backend().inject(.status(503))
        do {
            let outcomes = try await writer.apply(ids.map(delete))
            try expect(outcomes.count == ids.count, "\(outcomes.count) outcomes for \(ids.count) deletes")
            for outcome in outcomes {
                guard case .failed(let error) = outcome else {
                    throw failure("a delete during a whole-request failure is \(name(outcome)), expected failed")
                }
                try expect(error.isTransient, "a delete failed by a 503 is permanent (\(error.code))")
            }
        } catch let error as ConformanceFailure {
            throw error
        } catch {
            try expectTransient(error, "the delete call")
        }
        do {
            let records = try await read(ids)
            throw failure("a read during a whole-request failure answered \(records.count) records instead of failing")
        } catch let error as ConformanceFailure {
            throw error
        } catch {
            try expectTransient(error, "the read")
        }
        do {
            _ = try await pullAll()
            throw failure("a pull during a whole-request failure ended without an error")
        } catch let error as ConformanceFailure {
            throw error
        } catch {
            try expectTransient(error, "the pull")
        }
        try await backend().clearFaults()
        try expectMatches(try await pullAll(), ConformanceFixtures.live)
    }

    func errorsAreClassified() async throws {
        for (fault, transient) in ConformanceFault.classified {
            for (step, error) in try await provoke(fault) {
                guard let failure = error as? any ConnectorFailure else {
                    throw self.failure("\(step) under \(fault) threw \(type(of: error)), not a ConnectorFailure")
                }
                try expect(
                    failure.isTransient == transient,
                    "\(step) under \(fault) is \(failure.isTransient ? "transient" : "permanent") (\(failure.code))")
            }
        }
    }

    func errorsHoldNoSecretOrPersonalData() async throws {
        let personal = ConformanceFixtures.world.flatMap { record in
            ["email", "name", "phone"].compactMap { record.value($0) }
        }
        for (fault, _) in ConformanceFault.classified {
            for (step, error) in try await provoke(fault) {
                var texts = [String(describing: error)]
                if let failure = error as? any LetheError { texts += [failure.message, failure.code] }
                for text in texts {
                    try expect(!secrets.contains { !$0.isEmpty && text.contains($0) }, "\(step) under \(fault): an error holds a secret")
                    try expect(!personal.contains { text.contains($0) }, "\(step) under \(fault): an error holds personal data")
                }
            }
        }
    }

    // MARK: Helpers

    /// Injects `fault` and collects the error of a pull, and of a read and a delete of two records
    /// (a 404 only for the pull: for one id at a time it means that record is gone). Each step must
    /// fail; a delete may fail as the call or as its outcomes.
    private func provoke(_ fault: ConformanceFault) async throws -> [(step: String, error: any Error)] {
        let ids = [ConformanceFixtures.normalID, ConformanceFixtures.koreanID]
        var errors: [(step: String, error: any Error)] = []
        try await backend().inject(fault)
        do {
            _ = try await pullAll()
            throw failure("a pull under \(fault) ended without an error")
        } catch let error as ConformanceFailure {
            throw error
        } catch {
            errors.append(("the pull", error))
        }
        if fault != .status(404) {
            do {
                let records = try await read(ids)
                throw failure("a read under \(fault) answered \(records.count) records instead of failing")
            } catch let error as ConformanceFailure {
                throw error
            } catch {
                errors.append(("the read", error))
            }
            do {
                for outcome in try await writer.apply(ids.map(delete)) {
                    guard case .failed(let error) = outcome else {
                        throw failure("a delete under \(fault) is \(name(outcome)), expected failed")
                    }
                    errors.append(("the delete", error))
                }
            } catch let error as ConformanceFailure {
                throw error
            } catch {
                errors.append(("the delete call", error))
            }
        }
        try await backend().clearFaults()
        return errors
    }

    private func expectTransient(_ error: any Error, _ step: String) throws {
        guard let failure = error as? any ConnectorFailure else {
            throw self.failure("\(step) threw \(type(of: error)), not a ConnectorFailure")
        }
        try expect(failure.isTransient, "\(step) failed by a 503 is permanent (\(failure.code))")
    }

    private func name(_ outcome: OperationOutcome) -> String {
        switch outcome {
        case .applied, .deleted: "applied"
        case .alreadyGone: "alreadyGone"
        case .failed(let error): "failed(\(error.code))"
        }
    }
}
