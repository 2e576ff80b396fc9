import InboxEvents
import Foundation
import InboxStore

/// Realistic webhook bodies shaped like the integrator guide's examples, with fresh ids and
/// times, for `inboxlite send-test` to check a setup end to end.
public enum SampleWebhooks {
    /// Every event the receiver applies, in an order that makes sense to replay.
    public static let events = [
        "session.qr", "session.connected", "message.received", "message.sent", "message.ack",
        "session.disconnected",
    ]

    /// A sample body for `event`; `key` makes message ids unique, and acks refer to the
    /// `message.sent` sample with the same key.
    public static func body(event: String, session: String, key: String, now: Date = Date()) -> [UInt8] {
        let customer = "34612345678@c.us"
        let us = "34657032985@c.us"
        let seconds = Int(now.timeIntervalSince1970)
        let iso = Timestamps.iso(now)
        let data: [String: Any]
        switch event {
        case "message.received":
            data = [
                "id": ["fromMe": false, "remote": customer, "id": "IN\(key)", "_serialized": "false_\(customer)_IN\(key)_in"],
                "body": "Hola, ¿cómo estás? (InboxLite test \(key))", "type": "chat", "timestamp": seconds,
                "from": customer, "to": us, "fromMe": false, "hasMedia": false, "isForwarded": false,
                "isStarred": false, "isStatus": false, "quotedMsgId": NSNull(),
            ]
        case "message.sent":
            data = [
                "id": ["fromMe": true, "remote": customer, "id": "OUT\(key)", "_serialized": "true_\(customer)_OUT\(key)_out"],
                "body": "Respuesta automática (InboxLite test \(key))", "timestamp": seconds,
                "from": us, "to": customer, "fromMe": true,
            ]
        case "message.ack":
            data = ["messageId": "OUT\(key)", "ack": 3, "timestamp": seconds]
        case "session.connected":
            data = ["phoneNumber": "34657032985", "timestamp": iso]
        case "session.disconnected":
            data = ["reason": "logout", "timestamp": iso]
        case "session.qr":
            data = [
                "qrCode": "data:image/png;base64," + onePixelPNG,
                "expiresAt": Timestamps.iso(now.addingTimeInterval(300)),
            ]
        default:
            data = ["test": true]
        }
        let envelope: [String: Any] = ["event": event, "sessionId": session, "data": data, "timestamp": iso]
        let json = (try? JSONSerialization.data(withJSONObject: envelope, options: [.sortedKeys])) ?? Data()
        return Array(json)
    }

    /// The headers the gateway sends with `body`.
    public static func headers(body: [UInt8], event: String, session: String, secret: String, now: Date = Date()) -> [(String, String)] {
        [
            ("Content-Type", "application/json"),
            ("X-Webhook-Signature", WebhookSigner.signature(for: body, secret: secret)),
            ("X-Webhook-Event", event),
            ("X-Webhook-Session", session),
            ("X-Webhook-Timestamp", String(Int64(now.timeIntervalSince1970 * 1000))),
        ]
    }

    /// A valid 1×1 PNG, so a sample QR code decodes to a real image.
    public static let onePixelPNG =
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
}
