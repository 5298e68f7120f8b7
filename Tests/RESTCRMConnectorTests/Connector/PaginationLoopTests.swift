import Foundation
@testable import RESTCRMConnector
import RetentionCore
import Testing

/// A list that does not advance fails the pull (`rest.pagination_loop`) instead of looping while it
/// holds the connector's lock; a failed pull tombstones nothing.
struct PaginationLoopTests {
    static func loopCode(_ body: () async throws -> Void) async -> String? {
        do {
            try await body()
            return nil
        } catch let error as RESTCRMConnectorError {
            return error.code
        } catch {
            return "\(error)"
        }
    }

    @Test func aRepeatedCursorFailsThePull() async throws {
        let transport = ScriptedTransport { _ in
            Fixture.json(["results": (1...10).map(ShippedManifestTests.hubspotContact), "paging": ["next": ["after": "10", "link": "..."]]])
        }
        let connector = Fixture.connector(try Fixture.shipped("hubspot"), transport)
        let code = await Self.loopCode { _ = try await Fixture.collect(connector) }
        #expect(code == "rest.pagination_loop")
        #expect(transport.requests.count == 2, "the second page repeats the first page's cursor: stop there")
    }

    @Test func clampedPagesThatRepeatTheLastPageFailThePull() async throws {
        // Pipedrive-like: a `start` past the end answers the last page again with a next start.
        let people = (1...30).map { ShippedManifestTests.pipedrivePerson($0) }
        nonisolated(unsafe) let all = people
        let transport = ScriptedTransport { request in
            if request.path == "/v1/personFields" { return Fixture.json(ShippedManifestTests.personFields) }
            let start = min(Int(Fixture.query(request, "start") ?? "0")!, 20)
            let page = Array(all.dropFirst(start).prefix(10))
            let pagination: [String: Any] = ["start": start, "limit": 10, "more_items_in_collection": true, "next_start": Int(Fixture.query(request, "start") ?? "0")! + 10]
            return Fixture.json(["success": true, "data": page, "additional_data": ["pagination": pagination]])
        }
        let connector = Fixture.connector(try Fixture.shipped("pipedrive-v1"), transport)
        let code = await Self.loopCode { _ = try await Fixture.collect(connector) }
        #expect(code == "rest.pagination_loop")
    }

    @Test func aListLongerThanMaxPagesFailsThePull() async throws {
        var yaml = try String(contentsOf: Fixture.repository.appendingPathComponent("config/connectors/hubspot.yaml"), encoding: .utf8)
        yaml = yaml.replacingOccurrences(of: "  pageSize: 100 ", with: "  maxPages: 3\n  pageSize: 100 ")
        let manifest = try Fixture.manifest(yaml, environment: Fixture.environment)
        #expect(manifest.list.maxPages == 3)
        let transport = ScriptedTransport { request in
            let after = Int(Fixture.query(request, "after") ?? "0")!
            return Fixture.json(["results": ((after + 1)...(after + 100)).map(ShippedManifestTests.hubspotContact),
                                 "paging": ["next": ["after": String(after + 100), "link": "..."]]])
        }
        let code = await Self.loopCode { _ = try await Fixture.collect(Fixture.connector(manifest, transport)) }
        #expect(code == "rest.pagination_loop")
        #expect(transport.requests.count == 3)
    }

    @Test func aPageOfDeletedRecordsStillCountsAsProgress() async throws {
        // Pipedrive lists deleted persons with active_flag false: they are skipped, not a loop.
        let people = (1...20).map { ShippedManifestTests.pipedrivePerson($0, active: $0 > 10) }
        let connector = Fixture.connector(try Fixture.shipped("pipedrive-v1"), ShippedManifestTests.pipedrive(people))
        let records = try await Fixture.collect(connector).flatMap(\.records)
        #expect(records.map(\.id) == (11...20).map(String.init))
    }
}
