public import RetentionCore

/// The fixture world every connector is seeded with: records shaped like the hard cases of real
/// data. All names, addresses and numbers are invented.
public enum ConformanceFixtures {
    /// The canonical field names of a contact, in column order.
    public static let fieldNames = [
        "id", "name", "email", "phone", "created_at", "purpose", "marketing_consent", "interests",
        "consent_extended_at",
    ]

    /// An ordinary, complete record.
    public static let normalID = "c-normal"
    /// Korean text with an embedded comma, quotes and a newline.
    public static let koreanID = "c-korean"
    /// Seeded, then deleted by `runConformance` before any check runs.
    public static let alreadyDeletedID = "c-already-deleted"
    /// Never part of the world.
    public static let unknownID = "c-never-existed"

    /// The records, in seed order.
    public static let world: [SourceRecord] = [
        contact(normalID, name: "Test Person", email: "normal@example.com", created: "2023-06-01T09:00:00+09:00"),
        contact("c-missing-date", name: "No Date", email: "nodate@example.com", created: nil),
        contact("c-future", name: "Future Date", email: "future@example.com", created: "2099-01-01"),
        contact("c-feb29", name: "Leap Day", email: "leap@example.com", created: "2024-02-29", extended: "2025-02-28"),
        contact("c-zoneless", name: "Zone Less", email: "zoneless@example.com", created: "2024-03-15 14:30:00"),
        contact(
            koreanID, name: "김민준", email: "minjun@example.com", created: "2024-05-10",
            interests: "등산, \"캠핑\"\n똠얌꿍 요리"),
        contact(alreadyDeletedID, name: "Gone Soon", email: "gone@example.com", created: "2022-01-01"),
    ]

    /// The world as it is when a check starts: without the already deleted record.
    public static var live: [SourceRecord] { world.filter { $0.id != alreadyDeletedID } }

    /// The fixture record with this id.
    public static func record(_ id: String) -> SourceRecord? {
        world.first { $0.id == id }
    }

    private static func contact(
        _ id: String, name: String, email: String, created: String?, interests: String = "hiking",
        extended: String? = nil
    ) -> SourceRecord {
        var fields = [
            "id": id, "name": name, "email": email, "phone": "010-0000-0000", "purpose": "marketing",
            "marketing_consent": "Y", "interests": interests,
        ]
        fields["created_at"] = created
        fields["consent_extended_at"] = extended
        return SourceRecord(id: id, fields: fields)
    }
}
