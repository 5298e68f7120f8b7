import Foundation
@testable import CSVConnector
import Testing

/// The header's columns (for `lethe config validate` and the start-up warning), read without the
/// whole-file encoding pass: a CP949 header under `encoding: auto` still gives its Korean names.
@Suite struct CSVHeaderColumnsTests {
    @Test func utf8AndCP949HeadersUnderAuto() throws {
        let folder = try TemporaryFolder()
        let utf8 = try folder.file("u.csv", "id,이름,marketing_consent\n1,김민준,Y\n")
        #expect(try CSVDocument.canonicalColumns(CSVConnectorConfiguration(path: utf8)) == ["id", "이름", "marketing_consent"])
        let korean = try folder.file("k.csv", try cp949("id,이름,marketing_consent\r\n1,김민준,Y\r\n"))
        #expect(try CSVDocument.canonicalColumns(CSVConnectorConfiguration(path: korean)) == ["id", "이름", "marketing_consent"])
    }
}
