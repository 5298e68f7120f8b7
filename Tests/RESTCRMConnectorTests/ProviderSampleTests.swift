import RetentionTesting
import Foundation
@testable import RESTCRMConnector
import RetentionCore
import Testing

/// Sample bodies follow the providers' documented list responses.
struct ProviderSampleTests {
    // MARK: HubSpot CRM v3, GET /crm/v3/objects/contacts?properties=...
    static let hubspotMapping: TestYAML = [
        "records": "results",
        "id": "id",
        "fields": [
            "email": "properties.email",
            "created_at": ["path": "properties.createdate", "type": "datetime", "zone": "UTC"],
            "purpose": ["path": "properties.lethe_purpose", "split": ";", "join": ";"],
            "marketing_consent": ["path": "properties.lethe_marketing_consent", "values": ["true": "Y", "false": "N"]],
            "consent_extended_at": ["path": "properties.lethe_consent_extended_at", "type": "datetime"],
        ],
    ]
    static let hubspotBody = """
        {"results": [
          {"id": "512", "properties": {"createdate": "2019-10-30T03:30:17.883Z", "email": "bcooper@biglytics.net",
            "firstname": "Bryan", "hs_object_id": "512", "lastmodifieddate": "2019-12-07T16:50:06.678Z",
            "lethe_purpose": "contract; marketing;", "lethe_marketing_consent": "true",
            "lethe_consent_extended_at": "1614849300000"},
           "createdAt": "2019-10-30T03:30:17.883Z", "updatedAt": "2019-12-07T16:50:06.678Z", "archived": false},
          {"id": " 513 ", "properties": {"createdate": "2021-02-30T00:00:00Z", "email": null,
            "lethe_purpose": "", "lethe_marketing_consent": "false"},
           "createdAt": "2021-03-01T00:00:00Z", "updatedAt": "2021-03-01T00:00:00Z", "archived": false}
        ],
        "paging": {"next": {"after": "NTI1Cg%3D%3D", "link": "?after=NTI1Cg%3D%3D"}}}
        """

    @Test func hubspotContacts() throws {
        let mapping = try RecordMapping(config: Self.hubspotMapping.node())
        let records = try mapping.records(fromListResponse: Data(Self.hubspotBody.utf8))
        #expect(records.count == 2)
        #expect(records[0] == SourceRecord(id: "512", fields: [
            "email": "bcooper@biglytics.net",
            "created_at": "2019-10-30T03:30:17.883Z",
            "purpose": "contract;marketing",
            "marketing_consent": "Y",
            "consent_extended_at": "2021-03-04T09:15:00Z",
        ]))
        // id trimmed; null email absent; an impossible date passed through for the policy to quarantine.
        #expect(records[1] == SourceRecord(id: "513", fields: [
            "created_at": "2021-02-30T00:00:00Z", "purpose": "", "marketing_consent": "N",
        ]))
    }

    // MARK: Salesforce REST query, GET /services/data/vXX.X/query?q=SELECT ... FROM Contact
    static let salesforceMapping: TestYAML = [
        "records": "records",
        "id": "Id",
        "fields": [
            "email": "Email",
            "created_at": ["path": "CreatedDate", "type": "datetime"],
            "purpose": ["path": "Lethe_Purpose__c", "split": ";"],
            "marketing_consent": ["path": "Lethe_Marketing_Consent__c", "values": ["true": "Y", "false": "N"]],
            "owner_email": "Owner.Email",
        ],
    ]
    static let salesforceBody = """
        {"totalSize": 3, "done": false,
         "nextRecordsUrl": "/services/data/v60.0/query/01gD0000002HU6KIAW-2000",
         "records": [
          {"attributes": {"type": "Contact", "url": "/services/data/v60.0/sobjects/Contact/003D000000QV9n2IAD"},
           "Id": "003D000000QV9n2IAD", "Email": "rose@example.com", "CreatedDate": "2021-03-04T09:15:00.000+0000",
           "Lethe_Purpose__c": "contract;marketing", "Lethe_Marketing_Consent__c": true,
           "Owner": {"attributes": {"type": "User"}, "Email": "owner@example.com"}},
          {"attributes": {"type": "Contact", "url": "/services/data/v60.0/sobjects/Contact/003D000000QV9n3IAD"},
           "Id": "003D000000QV9n3IAD", "Email": null, "CreatedDate": "2020-02-29T23:30:00.000-0800",
           "Lethe_Purpose__c": null, "Lethe_Marketing_Consent__c": false, "Owner": null},
          {"attributes": {"type": "Contact"}, "Email": "noid@example.com", "CreatedDate": "2021-03-04T09:15:00.000+0000"}
         ]}
        """

    @Test func salesforceQuery() throws {
        let mapping = try RecordMapping(config: Self.salesforceMapping.node())
        let records = try mapping.records(fromListResponse: Data(Self.salesforceBody.utf8))
        #expect(records == [
            SourceRecord(id: "003D000000QV9n2IAD", fields: [
                "email": "rose@example.com", "created_at": "2021-03-04T09:15:00Z", "purpose": "contract;marketing",
                "marketing_consent": "Y", "owner_email": "owner@example.com",
            ]),
            SourceRecord(id: "003D000000QV9n3IAD", fields: [
                "created_at": "2020-03-01T07:30:00Z", "marketing_consent": "N",
            ]),
            // No Id: an empty id, which the coordinator quarantines.
            SourceRecord(id: "", fields: ["email": "noid@example.com", "created_at": "2021-03-04T09:15:00Z"]),
        ])
    }

    // MARK: Pipedrive v1, GET /v1/persons?start=0&limit=100
    static let purposeKey = "9f3a6c2b1e0d4f5a8b7c6d5e4f3a2b1c0d9e8f7a"
    static let interestsKey = "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567"
    static var pipedriveMapping: TestYAML {
        [
            "records": "data",
            "id": "id",
            "fields": [
                "email": "email[primary=true].value",
                "phone": "phone[primary=true].value",
                "created_at": ["path": "add_time", "type": "datetime", "zone": "UTC"],
                "purpose": ["path": .scalar(purposeKey), "values": ["31": "contract", "32": "marketing"], "split": ","],
                "interests": ["path": .scalar(interestsKey), "values": ["12": "golf", "13": "wine"], "split": ","],
                "active": "active_flag",
            ],
        ]
    }
    static var pipedriveBody: String {
        """
        {"success": true, "data": [
          {"id": 1, "company_id": 7, "owner_id": {"id": 9, "name": "Kim"}, "name": "Lee Minji",
           "active_flag": true,
           "phone": [{"label": "work", "value": "010-1234-5678", "primary": true}],
           "email": [{"label": "work", "value": "work@example.com", "primary": false},
                     {"label": "home", "value": "minji@example.com", "primary": true}],
           "add_time": "2021-03-04 09:15:00", "update_time": "2021-03-05 10:00:00",
           "\(purposeKey)": "31,32", "\(interestsKey)": "12,13,99"},
          {"id": 2, "name": "No Contact", "active_flag": false,
           "phone": [{"value": "", "primary": true}], "email": [{"value": "other@example.com", "primary": false}],
           "add_time": "2023-02-29 10:00:00", "\(purposeKey)": "31", "\(interestsKey)": null}
        ],
        "additional_data": {"pagination": {"start": 0, "limit": 100, "more_items_in_collection": true, "next_start": 100}}}
        """
    }

    @Test func pipedrivePersons() throws {
        let mapping = try RecordMapping(config: Self.pipedriveMapping.node())
        let records = try mapping.records(fromListResponse: Data(Self.pipedriveBody.utf8))
        #expect(records == [
            SourceRecord(id: "1", fields: [
                "email": "minji@example.com", "phone": "010-1234-5678", "created_at": "2021-03-04T09:15:00Z",
                "purpose": "contract,marketing", "interests": "golf,wine,99", "active": "true",
            ]),
            // No primary email: the first one. Feb 29 of a common year passes through unchanged.
            SourceRecord(id: "2", fields: [
                "email": "other@example.com", "phone": "", "created_at": "2023-02-29 10:00:00",
                "purpose": "contract", "active": "false",
            ]),
        ])
    }

    @Test func pipedriveEmptyPageHasNullData() throws {
        let mapping = try RecordMapping(config: Self.pipedriveMapping.node())
        let body = #"{"success": true, "data": null, "additional_data": {"pagination": {"start": 100, "limit": 100, "more_items_in_collection": false}}}"#
        #expect(try mapping.records(fromListResponse: Data(body.utf8)).isEmpty)
    }

    // MARK: Pipedrive v2, GET /api/v2/persons?limit=100 (the documented example answer's shape)
    static var pipedriveV2Mapping: TestYAML {
        [
            "records": "data",
            "id": "id",
            "fields": [
                "email": "emails[primary=true].value",
                "phone": "phones[primary=true].value",
                "created_at": ["path": "add_time", "type": "datetime", "zone": "UTC"],
                "updated_at": ["path": "update_time", "type": "datetime", "zone": "UTC"],
                "purpose": ["path": .scalar("custom_fields.\(purposeKey)"), "values": ["31": "contract", "32": "marketing"], "join": ";"],
                "interests": .scalar("custom_fields.\(interestsKey)"),
            ],
        ]
    }
    static var pipedriveV2Body: String {
        """
        {"success": true, "data": [
          {"id": 1, "name": "Lee Minji", "first_name": "Minji", "last_name": "Lee", "owner_id": 9, "org_id": null,
           "add_time": "2021-03-04T09:15:00Z", "update_time": "2021-03-05T10:00:00Z",
           "emails": [{"value": "work@example.com", "primary": false, "label": "work"},
                      {"value": "minji@example.com", "primary": true, "label": "home"}],
           "phones": [{"value": "010-1234-5678", "primary": true, "label": "work"}],
           "is_deleted": false, "visible_to": 7, "label_ids": [1, 2], "picture_id": null,
           "custom_fields": {"\(purposeKey)": [31, 32], "\(interestsKey)": "golf"}},
          {"id": 2, "name": "No Contact", "add_time": "2023-02-28T23:00:00+09:00", "update_time": null,
           "emails": [], "phones": [], "is_deleted": false,
           "custom_fields": {"\(purposeKey)": null, "\(interestsKey)": null}}
        ],
        "additional_data": {"next_cursor": "eyJmaWVsZCI6ImlkIiwiZmllbGRWYWx1ZSI6Nywic29ydERpcmVjdGlvbiI6ImFzYyIsImlkIjo3fQ"}}
        """
    }

    @Test func pipedriveV2Persons() throws {
        let mapping = try RecordMapping(config: Self.pipedriveV2Mapping.node())
        let records = try mapping.records(fromListResponse: Data(Self.pipedriveV2Body.utf8))
        #expect(records == [
            SourceRecord(id: "1", fields: [
                "email": "minji@example.com", "phone": "010-1234-5678", "created_at": "2021-03-04T09:15:00Z",
                "updated_at": "2021-03-05T10:00:00Z", "purpose": "contract;marketing", "interests": "golf",
            ]),
            // No emails and null custom fields: absent, not empty. An offset is read as its instant.
            SourceRecord(id: "2", fields: ["created_at": "2023-02-28T14:00:00Z"]),
        ])
    }

    @Test func pipedriveV2LastPageHasANullCursor() throws {
        let body = #"{"success": true, "data": [{"id": 3}], "additional_data": {"next_cursor": null}}"#
        let json = try JSONValue.parse(Data(body.utf8))
        let step = Pagination.cursor(next: JSONPath("additional_data.next_cursor")!)
            .next(after: json, headers: HTTPResult(status: 200), count: 1, offset: 0, page: 1, pageSize: 100)
        #expect(step == .done)
    }

    @Test func bodyThatIsTheArrayWhenRecordsIsOmitted() throws {
        let mapping = try RecordMapping(config: (["id": "id", "fields": ["tags": "tags"]] as TestYAML).node())
        let records = try mapping.records(fromListResponse: Data(#"[{"id": 5, "tags": ["a", "b"]}, "junk"]"#.utf8))
        #expect(records.count == 2)
        #expect(records[0] == SourceRecord(id: "5", fields: ["tags": "a,b"]))
        #expect(records[1].id == "")
        #expect(records[1].defect == "record is a string, not an object")
    }
}
