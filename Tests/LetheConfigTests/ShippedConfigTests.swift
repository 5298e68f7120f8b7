import Foundation
import LetheConfig
import RetentionCore
import Testing

/// The files in /config are part of the product: these tests load the real ones.
@Suite("Shipped config/lethe.yaml and kr-pipa policy")
struct ShippedConfigTests {
    /// `<package>/config`, found from this file (symlinks resolved, so a dev package pointing at
    /// the real test folder finds the real config too).
    static let configFolder = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("config")
    static let shippedConfig = configFolder.appendingPathComponent("lethe.yaml")

    /// The expected kr-pipa policy, written out value by value.
    static let expectedPolicy = Policy(
        name: "kr-pipa",
        zone: TimeZone(identifier: "Asia/Seoul")!,
        destroyWithin: Period(days: 5),
        fields: PolicyFields(
            createdAt: "created_at", purposes: "purpose", email: "email", name: "name", consent: "marketing_consent"),
        purposeSeparator: ";",
        rules: [
            RetentionRule(
                name: "payment", period: Period(years: 5), basis: ["created_at"],
                legalBasis: "전자상거래법 시행령 제6조: 대금결제 및 재화 등의 공급에 관한 기록 5년"
            ),
            RetentionRule(
                name: "dispute", period: Period(years: 3), basis: ["created_at"],
                legalBasis: "전자상거래법 시행령 제6조: 소비자의 불만 또는 분쟁처리에 관한 기록 3년"
            ),
            RetentionRule(
                name: "marketing", period: Period(years: 2), basis: ["created_at", "consent_extended_at"],
                erase: [
                    ErasedField(field: "interests", value: ""), ErasedField(field: "marketing_consent", value: "N"),
                ],
                notice: NoticeRule(
                    lead: Period(days: 30), requiresConsentField: "marketing_consent",
                    template: "marketing-extension", extension: Period(years: 2)
                ),
                legalBasis: "정보통신망법 제50조 제8항: 광고성 정보 수신동의 2년마다 확인"
            ),
        ],
        action: .delete
    )

    @Test func loadsWithAnEmptyEnvironment() throws {
        let configuration = try ConfigLoader(environment: [:]).load(file: Self.shippedConfig)
        #expect(configuration.version == 1)
        #expect(try configuration.stateDirectory.string() == ".lethe")
        #expect(configuration.policies.keys.sorted() == ["kr-pipa"])

        let mail = try #require(configuration.mail)
        #expect(mail.type == "file-mail")
        #expect(mail.from == "lethe@localhost")
        #expect(try mail.settings["directory"]?.string() == ".lethe/outbox")

        let archive = try #require(configuration.archive)
        #expect(archive.type == "file-archive")
        #expect(archive.from == nil)
        #expect(try archive.settings["directory"]?.string() == ".lethe/archive")
        #expect(try archive.settings["key"]?.string() == "")

        #expect(configuration.connectors.count == 1)
        let contacts = try #require(configuration.connectors.first)
        #expect(contacts.name == "contacts")
        #expect(contacts.type == "csv")
        #expect(contacts.policy == "kr-pipa")
        #expect(try contacts.settings["path"]?.string() == ".lethe/contacts.csv")
        #expect(try contacts.settings["encoding"]?.string() == "auto")
        #expect(contacts.safety == SafetyLimits(maxDeletesPerRun: 1000, maxDeleteFraction: 0.2))
    }

    @Test func environmentOverridesTheDefaults() throws {
        let environment = [
            "LETHE_STATE_DIR": "/var/lib/lethe",
            "LETHE_SMTP_FROM": "privacy@example.com",
            "LETHE_MAX_DELETES_PER_RUN": "50",
            "LETHE_MAX_DELETE_FRACTION": "0.05",
            "LETHE_ARCHIVE_KEY": "a2V5",
        ]
        let configuration = try ConfigLoader(environment: environment).load(file: Self.shippedConfig)
        #expect(try configuration.stateDirectory.string() == "/var/lib/lethe")
        #expect(configuration.mail?.from == "privacy@example.com")
        #expect(try configuration.mail?.settings["directory"]?.string() == "/var/lib/lethe/outbox")
        #expect(try configuration.archive?.settings["key"]?.string() == "a2V5")
        #expect(try configuration.connectors.first?.settings["path"]?.string() == "/var/lib/lethe/contacts.csv")
        #expect(configuration.connectors.first?.safety == SafetyLimits(maxDeletesPerRun: 50, maxDeleteFraction: 0.05))

        let csv = try ConfigLoader(environment: ["LETHE_CSV_PATH": "/data/c.csv", "LETHE_STATE_DIR": "/s"]).load(
            file: Self.shippedConfig)
        #expect(try csv.connectors.first?.settings["path"]?.string() == "/data/c.csv")
    }

    @Test func shippedPolicyIsExactlyKrPIPA() throws {
        let configuration = try ConfigLoader(environment: [:]).load(file: Self.shippedConfig)
        let policy = try #require(configuration.policies["kr-pipa"])
        #expect(policy == Self.expectedPolicy)
        let direct = try ConfigLoader(environment: [:]).loadPolicy(
            file: Self.configFolder.appendingPathComponent("policies/kr-pipa.yaml"))
        #expect(direct == Self.expectedPolicy)
    }

    @Test(arguments: [
        ("LETHE_MAX_DELETES_PER_RUN", "abc", "connectors[0].safety.maxDeletesPerRun", "config.type"),
        ("LETHE_MAX_DELETE_FRACTION", "abc", "connectors[0].safety.maxDeleteFraction", "config.type"),
        ("LETHE_MAX_DELETE_FRACTION", "2", "connectors[0].safety.maxDeleteFraction", "config.range"),
        ("LETHE_MAX_DELETES_PER_RUN", "-5", "connectors[0].safety.maxDeletesPerRun", "config.range"),
    ])
    func badEnvironmentValuesNameTheKey(_ variable: String, _ value: String, _ key: String, _ code: String) throws {
        let error = #expect(throws: ConfigError.self) {
            try ConfigLoader(environment: [variable: value]).load(file: Self.shippedConfig)
        }
        #expect(error?.code == code)
        #expect(error?.key == key)
        #expect(error?.location?.file == Self.shippedConfig.relativePath)
        #expect(error?.message.contains(key) == true)
    }

    @Test func shippedConfigPassesValidationAgainstMatchingSpecs() throws {
        let configuration = try ConfigLoader(environment: [:]).load(file: Self.shippedConfig)
        let registry = ConnectorRegistry([
            FakeConnectors.factory(
                "csv", [.source, .writeBack],
                [
                    FieldSpec("path", .string, required: true, "file"),
                    FieldSpec("encoding", .choice(["auto", "utf-8", "cp949"]), "encoding"),
                ]),
            FakeConnectors.factory(
                "file-mail", [.notices], [FieldSpec("directory", .string, required: true, "folder")]),
            FakeConnectors.factory(
                "file-archive", [.archive],
                [
                    FieldSpec("directory", .string, required: true, "folder"),
                    FieldSpec("key", .string, secret: true, "key"),
                    FieldSpec("previousKeys", .string, secret: true, "earlier keys"),
                    FieldSpec("generateKey", .boolean, "generate a key file"),
                    FieldSpec("keep", .string, "archive retention"),
                ]),
        ])
        #expect(configuration.validateAll(registry: registry).isEmpty)
        try configuration.validate(registry: registry)
    }
}
