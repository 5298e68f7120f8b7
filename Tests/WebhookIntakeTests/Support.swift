import Foundation
import WebhookIntake

/// HubSpot's documentation example secret (developers.hubspot.com, "Validating requests", v1/v2 examples).
let hubspotDocSecret = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"

/// HubSpot's documented v1 example body: one `contact.creation` event.
let hubspotDocBody = #"[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]"#

func request(
    method: String = "POST", uri: String = "https://lethe.example.com/webhooks/hubspot",
    headers: [(String, String)] = [], body: String
) -> WebhookRequest {
    WebhookRequest(
        method: method, uri: uri, headers: WebhookHeaders(headers.map { (name: $0.0, value: $0.1) }),
        body: Data(body.utf8))
}

/// Epoch milliseconds as a date.
func date(ms: Int64) -> Date { Date(timeIntervalSince1970: Double(ms) / 1000) }
