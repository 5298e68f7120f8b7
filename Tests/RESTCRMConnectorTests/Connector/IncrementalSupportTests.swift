import Foundation
@testable import RESTCRMConnector
import RetentionCore
import Testing

/// The daemon asks a source whether it pulls incrementally (no cast to a concrete connector): a REST
/// manifest with `incremental:` does, one without does not, and a source says nothing by default.
struct IncrementalSupportTests {
    struct Plain: RecordSource {
        func check() async throws {}
        func pull(_ request: PullRequest) -> AsyncThrowingStream<RecordBatch, any Error> { AsyncThrowingStream { $0.finish() } }
        func read(ids: [String]) async throws -> [SourceRecord] { [] }
    }

    @Test func aSourceSaysWhetherItPullsIncrementally() throws {
        let transport = ScriptedTransport { _ in Fixture.json([:]) }
        let shipped: any RecordSource = Fixture.connector(try Fixture.shipped("hubspot"), transport)
        #expect(shipped.supportsIncrementalPull)
        var manifest = try Fixture.shipped("hubspot")
        manifest.incremental = nil
        let without: any RecordSource = Fixture.connector(manifest, transport)
        #expect(!without.supportsIncrementalPull)
        #expect(!(Plain() as any RecordSource).supportsIncrementalPull)
    }
}
