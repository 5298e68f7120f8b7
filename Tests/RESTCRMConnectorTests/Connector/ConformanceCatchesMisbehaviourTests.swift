import ConnectorConformance
import Foundation
import RetentionCore
import Synchronization
import Testing

/// The source conformance checks that change or break the system behind a connector catch a
/// connector that breaks their rule: each misbehaviour wraps a conforming REST connector.
struct ConformanceCatchesMisbehaviourTests {
    enum Misbehaviour: String, CaseIterable, Sendable {
        /// Reads answer the records as the last pull saw them.
        case readsFromTheListing
        /// A failed delete is reported deleted.
        case trustsTheRequest
        /// A read that fails answers "none left".
        case readSwallowsFailures
        /// Every error is transient.
        case everythingTransient
        /// Every error is permanent.
        case nothingTransient
        /// Errors carry the first fixture's e-mail.
        case errorsNameAPerson
        /// Errors carry the subject's token.
        case errorsHoldTheToken

        var breaks: [ConformanceCheck] {
            switch self {
            case .readsFromTheListing: [.rereadSeesChangeAfterList]
            case .trustsTheRequest: [.batchAnswerLeavingIDsOutDeletesOnlyTheRest, .wholeRequestFailureGivesNoVerdict]
            case .readSwallowsFailures: [.wholeRequestFailureGivesNoVerdict, .errorsAreClassified]
            case .everythingTransient, .nothingTransient: [.errorsAreClassified]
            case .errorsNameAPerson, .errorsHoldTheToken: [.errorsHoldNoSecretOrPersonalData]
            }
        }
    }

    @Test(arguments: Misbehaviour.allCases)
    func eachCheckCatchesTheConnectorThatBreaksIt(_ misbehaviour: Misbehaviour) async throws {
        for check in misbehaviour.breaks {
            // The batch answer needs a manifest that deletes in batches: Salesforce's composite delete.
            let inner: any ConformanceSubject =
                check == .batchAnswerLeavingIDsOutDeletesOnlyTheRest
                ? ShippedManifestConformanceSubject(manifest: "salesforce") : RESTConformanceSubject()
            let subject = MisbehavingSubject(inner: inner, misbehaviour: misbehaviour)
            let error = await #expect(throws: ConformanceFailure.self, "\(misbehaviour) passes \(check)") {
                try await runConformance(check, subject: subject)
            }
            #expect(error?.check == check)
        }
    }

    @Test func theWellBehavedConnectorPassesTheSameChecks() async throws {
        let checks = Set(Misbehaviour.allCases.flatMap(\.breaks)).subtracting([.batchAnswerLeavingIDsOutDeletesOnlyTheRest])
        for check in checks.sorted(by: { $0.rawValue < $1.rawValue }) {
            #expect(try await runConformance(check, subject: RESTConformanceSubject()) == .passed)
        }
    }

    @Test func anExclusionWithoutAReasonFailsTheCheck() async throws {
        struct Unexplained: ConformanceSubject {
            let inner = RESTConformanceSubject()
            var exclusions: [ConformanceCheck: String] { [.errorsAreClassified: "  "] }
            func make(seededWith records: [SourceRecord]) async throws -> ConnectorInstance {
                try await inner.make(seededWith: records)
            }
        }
        await #expect(throws: ConformanceFailure.self) { try await runConformance(.errorsAreClassified, subject: Unexplained()) }
    }

    @Test func aFaultCheckWithoutABackendFailsAndNamesWhatIsMissing() async throws {
        struct NoBackend: ConformanceSubject {
            let inner = RESTConformanceSubject()
            func make(seededWith records: [SourceRecord]) async throws -> ConnectorInstance {
                try await inner.make(seededWith: records)
            }
        }
        let error = await #expect(throws: ConformanceFailure.self) {
            try await runConformance(.wholeRequestFailureGivesNoVerdict, subject: NoBackend())
        }
        #expect(error?.message.contains("ConformanceBackend") == true)
    }
}

/// A conforming subject whose connector is wrapped to misbehave.
struct MisbehavingSubject: ConformanceSubject {
    let inner: any ConformanceSubject
    let misbehaviour: ConformanceCatchesMisbehaviourTests.Misbehaviour

    var secrets: [String] { inner.secrets.isEmpty ? ["generic-token"] : inner.secrets }

    func make(seededWith records: [SourceRecord]) async throws -> ConnectorInstance {
        try await makeUnderTest(seededWith: records).instance
    }

    func makeUnderTest(seededWith records: [SourceRecord]) async throws -> SourceUnderTest {
        var underTest = try await inner.makeUnderTest(seededWith: records)
        let wrapped = Misbehaving(
            source: underTest.instance.source!, writer: underTest.instance.writer!, misbehaviour: misbehaviour,
            secret: secrets[0])
        underTest.instance.source = wrapped
        underTest.instance.writer = wrapped
        return underTest
    }
}

final class Misbehaving: RecordSource, RecordWriter, Sendable {
    let source: any RecordSource
    let writer: any RecordWriter
    let misbehaviour: ConformanceCatchesMisbehaviourTests.Misbehaviour
    let secret: String
    private let listed = Mutex<[String: SourceRecord]>([:])

    init(source: any RecordSource, writer: any RecordWriter, misbehaviour: ConformanceCatchesMisbehaviourTests.Misbehaviour, secret: String) {
        self.source = source
        self.writer = writer
        self.misbehaviour = misbehaviour
        self.secret = secret
    }

    func check() async throws { try await source.check() }

    func pull(_ request: PullRequest) -> AsyncThrowingStream<RecordBatch, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    for try await batch in source.pull(request) {
                        listed.withLock { for record in batch.records { $0[record.id] = record } }
                        continuation.yield(batch)
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: mangle(error))
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    func read(ids: [String]) async throws -> [SourceRecord] {
        if misbehaviour == .readsFromTheListing {
            let cached = listed.withLock { cache in ids.compactMap { cache[$0] } }
            if !cached.isEmpty { return cached }
        }
        do {
            return try await source.read(ids: ids)
        } catch {
            if misbehaviour == .readSwallowsFailures { return [] }
            throw mangle(error)
        }
    }

    func apply(_ operations: [WriteOperation]) async throws -> [OperationOutcome] {
        let outcomes: [OperationOutcome]
        do {
            outcomes = try await writer.apply(operations)
        } catch {
            if misbehaviour == .trustsTheRequest { return operations.map { _ in .deleted(DeletionReceipt(mode: .permanent)) } }
            throw mangle(error)
        }
        return outcomes.map { outcome in
            guard case .failed(let error) = outcome else { return outcome }
            if misbehaviour == .trustsTheRequest { return .deleted(DeletionReceipt(mode: .permanent)) }
            return .failed(mangle(error) as? any ConnectorFailure ?? error)
        }
    }

    private func mangle(_ error: any Error) -> any Error {
        guard let failure = error as? any ConnectorFailure else { return error }
        switch misbehaviour {
        case .everythingTransient: return ConnectorError(code: failure.code, message: failure.message, isTransient: true)
        case .nothingTransient: return ConnectorError(code: failure.code, message: failure.message, isTransient: false)
        case .errorsNameAPerson:
            return ConnectorError(code: failure.code, message: "\(failure.message) (normal@example.com)", isTransient: failure.isTransient)
        case .errorsHoldTheToken:
            return ConnectorError(code: failure.code, message: "\(failure.message) token=\(secret)", isTransient: failure.isTransient)
        default: return error
        }
    }
}
