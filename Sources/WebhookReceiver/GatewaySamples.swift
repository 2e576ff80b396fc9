import InboxEvents
import Foundation
import InboxStore

/// Realistic bodies for Meta, WAHA and Evolution (shaped like their documented examples) with
/// fresh ids and times, and the credentials each sends: for `inboxlite send-test --provider` and
/// the tests. Inbox Hub's are `SampleWebhooks`.
public enum GatewaySamples {
    /// The sample events of `provider`, in an order that makes sense to replay (the ack refers to
    /// the outgoing message before it).
    public static func events(_ provider: Provider) -> [String] {
        switch provider {
        case .inboxHub: return SampleWebhooks.events
        case .meta: return ["messages", "statuses"]
        case .waha: return ["session.status", "message", "message.any", "message.ack"]
        case .evolution: return ["qrcode.updated", "connection.update", "messages.upsert", "send.message", "messages.update"]
        }
    }

    /// The body of sample `event` for `session` (the gateway's own session name / instance /
    /// phone number id); `key` makes ids unique.
    public static func body(_ provider: Provider, event: String, session: String, key: String, now: Date = Date()) -> [UInt8] {
        let seconds = Int(now.timeIntervalSince1970)
        let ms = Int64(now.timeIntervalSince1970 * 1000)
        let text: String
        switch (provider, event) {
        case (.meta, "messages"):
            text = #"{"object":"whatsapp_business_account","entry":[{"id":"310000000000001","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550001111","phone_number_id":"\#(session)"},"contacts":[{"profile":{"name":"Ana Souza"},"wa_id":"5511988887777"}],"messages":[{"from":"5511988887777","id":"wamid.IN\#(key)","timestamp":"\#(seconds)","type":"text","text":{"body":"Hola (InboxLite test \#(key))"}}]}}]}]}"#
        case (.meta, _):
            text = #"{"object":"whatsapp_business_account","entry":[{"id":"310000000000001","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550001111","phone_number_id":"\#(session)"},"statuses":[{"id":"wamid.OUT\#(key)","status":"sent","timestamp":"\#(seconds)","recipient_id":"5511988887777"},{"id":"wamid.OUT\#(key)","status":"read","timestamp":"\#(seconds + 5)","recipient_id":"5511988887777"}]}}]}]}"#
        case (.waha, "session.status"):
            text = #"{"id":"evt_\#(key.lowercased())s","timestamp":\#(ms),"event":"session.status","session":"\#(session)","me":{"id":"5511900001111@c.us","pushName":"Acme"},"payload":{"status":"WORKING"},"engine":"NOWEB"}"#
        case (.waha, "message"):
            text = #"{"id":"evt_\#(key.lowercased())m","timestamp":\#(ms),"event":"message","session":"\#(session)","payload":{"id":"false_5511988887777@c.us_IN\#(key)","timestamp":\#(seconds),"from":"5511988887777@c.us","to":"5511900001111@c.us","fromMe":false,"participant":null,"body":"Hola (InboxLite test \#(key))","hasMedia":false,"_data":{"pushName":"Ana Souza"}},"engine":"NOWEB"}"#
        case (.waha, "message.any"):
            text = #"{"id":"evt_\#(key.lowercased())a","timestamp":\#(ms),"event":"message.any","session":"\#(session)","payload":{"id":"true_5511988887777@c.us_OUT\#(key)","timestamp":\#(seconds),"from":"5511900001111@c.us","to":"5511988887777@c.us","fromMe":true,"source":"api","body":"Respuesta (InboxLite test \#(key))","hasMedia":false,"ack":1},"engine":"NOWEB"}"#
        case (.waha, _):
            text = #"{"id":"evt_\#(key.lowercased())k","timestamp":\#(ms),"event":"message.ack","session":"\#(session)","payload":{"id":"true_5511988887777@c.us_OUT\#(key)","from":"5511988887777@c.us","to":"5511900001111@c.us","participant":null,"fromMe":true,"ack":3,"ackName":"READ"},"engine":"NOWEB"}"#
        case (.evolution, "qrcode.updated"):
            text = #"{"event":"qrcode.updated","instance":"\#(session)","data":{"qrcode":{"instance":"\#(session)","pairingCode":null,"code":"2@test","base64":"data:image/png;base64,\#(SampleWebhooks.onePixelPNG)"}},"date_time":"\#(Timestamps.iso(now))","sender":null,"apikey":null}"#
        case (.evolution, "connection.update"):
            text = #"{"event":"connection.update","instance":"\#(session)","data":{"instance":"\#(session)","state":"open","statusReason":200,"wuid":"5511900001111@s.whatsapp.net"},"date_time":"\#(Timestamps.iso(now))","apikey":null}"#
        case (.evolution, "messages.upsert"):
            text = #"{"event":"messages.upsert","instance":"\#(session)","data":{"key":{"remoteJid":"5511988887777@s.whatsapp.net","fromMe":false,"id":"IN\#(key)"},"pushName":"Ana Souza","status":"DELIVERY_ACK","message":{"conversation":"Hola (InboxLite test \#(key))"},"messageType":"conversation","messageTimestamp":\#(seconds),"source":"android"},"date_time":"\#(Timestamps.iso(now))","sender":"5511900001111@s.whatsapp.net","apikey":null}"#
        case (.evolution, "send.message"):
            text = #"{"event":"send.message","instance":"\#(session)","data":{"key":{"remoteJid":"5511988887777@s.whatsapp.net","fromMe":true,"id":"OUT\#(key)"},"pushName":"Você","status":"PENDING","message":{"conversation":"Respuesta (InboxLite test \#(key))"},"messageType":"conversation","messageTimestamp":\#(seconds)},"date_time":"\#(Timestamps.iso(now))","apikey":null}"#
        case (.evolution, _):
            text = #"{"event":"messages.update","instance":"\#(session)","data":{"keyId":"OUT\#(key)","remoteJid":"5511988887777@s.whatsapp.net","fromMe":true,"participant":null,"status":"READ"},"date_time":"\#(Timestamps.iso(now))","apikey":null}"#
        case (.inboxHub, _):
            return SampleWebhooks.body(event: event, session: session, key: key, now: now)
        }
        return Array(text.utf8)
    }

    /// The headers `provider` sends with `body`, authenticated with `secret`.
    public static func headers(_ provider: Provider, body: [UInt8], event: String, session: String, secret: String, now: Date = Date())
        -> [(String, String)]
    {
        switch provider {
        case .inboxHub:
            return SampleWebhooks.headers(body: body, event: event, session: session, secret: secret, now: now)
        case .meta:
            return [("Content-Type", "application/json"), ("X-Hub-Signature-256", WebhookSigner.signature(for: body, secret: secret))]
        case .waha:
            return [
                ("Content-Type", "application/json"), ("X-Webhook-Hmac", WebhookSigner.sha512Hex(for: body, secret: secret)),
                ("X-Webhook-Hmac-Algorithm", "sha512"), ("X-Webhook-Timestamp", String(Int64(now.timeIntervalSince1970 * 1000))),
            ]
        case .evolution:
            return [("Content-Type", "application/json"), ("Authorization", "Bearer " + WebhookSigner.evolutionJWT(token: secret, now: now))]
        }
    }

    /// The path `provider` posts to (Evolution in its "webhook by events" form).
    public static func path(_ provider: Provider, event: String) -> String {
        switch provider {
        case .inboxHub: return "/webhooks/inbox-hub"
        case .meta: return "/webhooks/meta"
        case .waha: return "/webhooks/waha"
        case .evolution: return "/webhooks/evolution/" + event.lowercased().replacingOccurrences(of: ".", with: "-")
        }
    }
}
