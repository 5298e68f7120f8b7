import ConnectorTemplates
import Testing

@Suite struct ConnectorNameTests {
    @Test(arguments: [
        ("Zoho", "zoho", "zoho"), ("FileMail", "fileMail", "file-mail"), ("CSV", "csv", "csv"),
        ("HTTPMail", "httpMail", "http-mail"), ("Zoho2", "zoho2", "zoho2"), ("KakaoTalk", "kakaoTalk", "kakao-talk"),
    ])
    func derivedNames(_ given: String, _ factory: String, _ configType: String) throws {
        let name = try ConnectorName(given, kind: .source)
        #expect(name.factory == factory)
        #expect(name.configType == configType)
    }

    @Test func targetsFollowTheKind() throws {
        let source = try ConnectorName("Zoho", kind: .source)
        #expect(source.target == "ZohoConnector")
        #expect(source.testTarget == "ZohoConnectorTests")
        #expect(source.folder == "Connectors/Zoho")
        #expect(source.testFolder == "Tests/ZohoConnectorTests")
        let sink = try ConnectorName("Kakao", kind: .sink)
        #expect(sink.target == "KakaoSink")
        #expect(sink.testFolder == "Tests/KakaoSinkTests")
    }

    @Test(arguments: ["zoho", "Z", "Zo ho", "Zoho-CRM", "Zoho_CRM", "2Zoho", "Zöho", "", "ZohoConnector", "ZohoSink",
                      "ZohoSource", String(repeating: "A", count: 41)])
    func refusesNamesThatAreNotUpperCamelCaseIdentifiers(_ given: String) {
        #expect(throws: ScaffoldError.self) { try ConnectorName(given, kind: .source) }
        do {
            _ = try ConnectorName(given, kind: .source)
        } catch {
            #expect(error.code == "scaffold.bad_name")
            #expect(error.message.contains("'\(given)'"))
        }
    }

    @Test func kindArgument() throws {
        #expect(try ConnectorKind(argument: "source") == .source)
        #expect(try ConnectorKind(argument: "sink") == .sink)
        #expect(throws: ScaffoldError(code: "scaffold.bad_kind", message: "unknown kind 'writer'; one of: source, sink")) {
            try ConnectorKind(argument: "writer")
        }
    }
}
