import InboxEvents
import Foundation
import HTTPTypes
import HummingbirdTesting
@testable import InboxStore
import NIOCore
import Testing
@testable import WebhookReceiver

/// One webhook of a gateway other than Inbox Hub, with that gateway's credentials.
struct GatewayWebhook {
    var provider: Provider
    var body: [UInt8]
    var headers: HTTPFields
    var path: String

    init(_ provider: Provider, _ json: String, secret: String? = nil, path: String? = nil, now: Date = Date()) {
        self.provider = provider
        body = Array(json.utf8)
        headers = [.contentType: "application/json"]
        let secret = secret ?? GatewayTests.secrets[provider]!
        for (name, value) in GatewaySamples.headers(provider, body: body, event: "", session: "", secret: secret, now: now) {
            headers[HTTPField.Name(name)!] = value
        }
        self.path = path ?? GatewaySamples.path(provider, event: "")
    }
}

extension TestClientProtocol {
    @discardableResult
    func post(_ webhook: GatewayWebhook) async throws -> (HTTPResponse.Status, [String: Any]) {
        try await execute(uri: webhook.path, method: .post, headers: webhook.headers, body: ByteBuffer(bytes: webhook.body)) { response in
            let object = (try? JSONSerialization.jsonObject(with: Data(buffer: response.body))) as? [String: Any] ?? [:]
            return (response.status, object)
        }
    }
}

@Suite("Gateways: Meta, WAHA and Evolution into the same tables")
struct GatewayTests {
    static let secrets: [Provider: String] = [.meta: "test-app-secret", .waha: "my-secret-key", .evolution: "evo-token"]

    /// A test inbox with every gateway on.
    static func inbox(sessionSecrets: [String: [String]] = [:]) throws -> TestInbox {
        var inbox = try TestInbox(sessionSecrets: sessionSecrets)
        inbox.configuration.metaAppSecret = Self.secrets[.meta]
        inbox.configuration.metaVerifyToken = "verify-me"
        inbox.configuration.wahaHMACKey = Self.secrets[.waha]
        inbox.configuration.evolutionToken = Self.secrets[.evolution]
        return inbox
    }

    /// Posts each webhook and expects 200.
    static func deliver(_ webhooks: [GatewayWebhook], into inbox: TestInbox) async throws {
        try await inbox.run { client async throws in
            for webhook in webhooks {
                let (status, json) = try await client.post(webhook)
                #expect(status == .ok, "\(webhook.provider) \(String(decoding: webhook.body.prefix(80), as: UTF8.self)): \(json)")
            }
        }
    }

    // MARK: - Signatures (the reference's test vectors)

    @Test func referenceSignatureVectors() {
        #expect(WebhookSigner.signature(for: Array(#"{"object":"whatsapp_business_account","entry":[]}"#.utf8), secret: "test-app-secret")
                == "sha256=c84a394cc475525991e78ff16e430b02e47f953877d2af0ade26956ce6f384dc")
        #expect(WebhookSigner.sha512Hex(for: Array(#"{"event":"message","session":"default","engine":"WEBJS"}"#.utf8), secret: "my-secret-key")
                == "208f8a55dde9e05519e898b10b89bf0d0b3b0fdf11fdbf09b6b90476301b98d8097c462b2b17a6ce93b6b47a136cf2e78a33a63f6752c2c1631777076153fa89")
    }

    @Test func eachGatewayRejectsWhatItDidNotSignAndStoresNothing() async throws {
        let inbox = try Self.inbox()
        defer { inbox.remove() }
        let meta = GatewaySamples.body(.meta, event: "messages", session: "420000000000002", key: "S1")
        let waha = GatewaySamples.body(.waha, event: "message", session: "default", key: "S1")
        let evolution = GatewaySamples.body(.evolution, event: "messages.upsert", session: "acme-01", key: "S1")
        try await inbox.run { client async throws in
            for (provider, body) in [(Provider.meta, meta), (.waha, waha), (.evolution, evolution)] {
                let json = String(decoding: body, as: UTF8.self)
                var wrong = GatewayWebhook(provider, json, secret: "wrong-secret")
                #expect(try await client.post(wrong).0 == .unauthorized, "\(provider) wrong secret")
                var tampered = GatewayWebhook(provider, json)
                tampered.body = Array(json.replacingOccurrences(of: "InboxLite test", with: "InboxLite tezt").utf8)
                if provider != .evolution {  // Evolution's token is not bound to the body
                    #expect(try await client.post(tampered).0 == .unauthorized, "\(provider) tampered body")
                }
                wrong.headers = [.contentType: "application/json"]
                let (status, answer) = try await client.post(wrong)
                #expect(status == .unauthorized, "\(provider) no credentials")
                #expect(["missing_signature", "missing_credentials"].contains(answer["error"] as? String ?? ""))
            }
            // Evolution: an expired JWT, a JWT for another app, the static header, the query token.
            var expired = GatewayWebhook(.evolution, String(decoding: evolution, as: UTF8.self), now: Date().addingTimeInterval(-3600))
            #expect(try await client.post(expired).1["message"] as? String == "the JWT has expired (exp)")
            expired.headers[.authorization] = nil
            expired.headers[.inboxLiteToken] = "evo-token"
            #expect(try await client.post(expired).0 == .ok)
            var query = GatewayWebhook(.evolution, String(decoding: GatewaySamples.body(.evolution, event: "send.message", session: "acme-01", key: "Q"), as: UTF8.self))
            query.headers[.authorization] = nil
            query.path = "/webhooks/evolution?token=evo-token"
            #expect(try await client.post(query).0 == .ok)
            query.path = "/webhooks/evolution?token=evo-tokeN"
            #expect(try await client.post(query).0 == .unauthorized)
        }
        #expect(try inbox.count("webhook_deliveries") == 2)
    }

    @Test func aGatewayWithoutItsSecretIsOff() async throws {
        let inbox = try TestInbox()
        defer { inbox.remove() }
        try await inbox.run { client async throws in
            for provider in [Provider.meta, .waha, .evolution] {
                let webhook = GatewayWebhook(provider, "{}")
                let (status, json) = try await client.post(webhook)
                #expect(status == .notFound && json["error"] as? String == "provider_disabled", "\(provider)")
            }
            try await client.execute(uri: "/webhooks/meta?hub.mode=subscribe&hub.verify_token=x&hub.challenge=1", method: .get) {
                #expect($0.status == .notFound)
            }
        }
    }

    @Test func metaSubscribeHandshake() async throws {
        let inbox = try Self.inbox()
        defer { inbox.remove() }
        try await inbox.run { client async throws in
            try await client.execute(uri: "/webhooks/meta?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=verify-me", method: .get) {
                #expect($0.status == .ok)
                #expect(String(buffer: $0.body) == "1158201444")
                #expect($0.headers[.contentType]?.hasPrefix("text/plain") == true)
            }
            for query in ["hub.mode=subscribe&hub.challenge=1&hub.verify_token=nope", "hub.mode=unsubscribe&hub.challenge=1&hub.verify_token=verify-me",
                          "hub.challenge=1"] {
                try await client.execute(uri: "/webhooks/meta?\(query)", method: .get) { #expect($0.status == .forbidden, "\(query)") }
            }
        }
    }

    @Test func perSessionSecretsApplyToGatewaySessions() async throws {
        let inbox = try Self.inbox(sessionSecrets: ["waha:vip": ["k-new", "k-old"], "evolution:acme-01": ["evo-acme"]])
        defer { inbox.remove() }
        try await inbox.run { client async throws in
            let vip = String(decoding: GatewaySamples.body(.waha, event: "message", session: "vip", key: "P1"), as: UTF8.self)
            #expect(try await client.post(GatewayWebhook(.waha, vip, secret: "k-old")).0 == .ok, "rotation: the old key still works")
            #expect(try await client.post(GatewayWebhook(.waha, vip, secret: "my-secret-key")).0 == .unauthorized, "a listed session accepts only its own")
            let acme = String(decoding: GatewaySamples.body(.evolution, event: "messages.upsert", session: "acme-01", key: "P2"), as: UTF8.self)
            #expect(try await client.post(GatewayWebhook(.evolution, acme, secret: "evo-acme")).0 == .ok)
            #expect(try await client.post(GatewayWebhook(.evolution, acme)).0 == .unauthorized)
        }
    }

    // MARK: - Meta

    @Test func metaBatchesAreAppliedWholeAndStatusesCreateTheOutgoingMessage() async throws {
        let inbox = try Self.inbox()
        defer { inbox.remove() }
        let batch = #"""
        {"object":"whatsapp_business_account","entry":[{"id":"310000000000001","changes":[{"field":"messages","value":{
         "messaging_product":"whatsapp","metadata":{"display_phone_number":"15550001111","phone_number_id":"420000000000002"},
         "contacts":[{"profile":{"name":"Ana Souza"},"wa_id":"5511988887777"},{"profile":{"name":"Bruno"},"wa_id":"5511977776666"}],
         "messages":[{"from":"5511988887777","id":"wamid.QUFBQkJCQ0NDMTIz","timestamp":"1767225600",
          "context":{"from":"15550001111","id":"wamid.T1VUR09JTkcwMDE="},"type":"text","text":{"body":"Yes, Tuesday works"}},
          {"from":"5511977776666","id":"wamid.IMG1","timestamp":"1767225601","type":"image","image":{"id":"m1","mime_type":"image/jpeg","caption":"la foto"}},
          {"from":"5511977776666","id":"wamid.REACT","timestamp":"1767225602","type":"reaction","reaction":{"message_id":"wamid.IMG1","emoji":"👍"}}]}}]}]}
        """#
        let failed = #"""
        {"object":"whatsapp_business_account","entry":[{"id":"310000000000001","changes":[{"field":"messages","value":{
         "messaging_product":"whatsapp","metadata":{"display_phone_number":"15550001111","phone_number_id":"420000000000002"},
         "statuses":[{"id":"wamid.T1VUR09JTkcwMDE=","status":"read","timestamp":"1767225700","recipient_id":"5511988887777"},
          {"id":"wamid.T1VUR09JTkcwMDE=","status":"delivered","timestamp":"1767225650","recipient_id":"5511988887777"},
          {"id":"wamid.FAIL","status":"failed","timestamp":"1767225800","recipient_id":"5511988887777",
           "errors":[{"code":131047,"title":"Re-engagement message","message":"Re-engagement message"}]}]}}]}]}
        """#
        try await Self.deliver([GatewayWebhook(.meta, batch), GatewayWebhook(.meta, failed)], into: inbox)

        let session = try #require(try inbox.rows("SELECT session_id, provider, status, is_connected, phone_number FROM sessions").first)
        #expect(session.string(0) == "meta:420000000000002" && session.string(1) == "meta")
        #expect(session.string(2) == "Connected" && session.int(3) == 1 && session.string(4) == "15550001111")
        let messages = try inbox.rows("""
            SELECT message_id, contact, from_me, body, type, has_media, quoted_msg_id, status, \(TestInbox.jsonPath("data", "id"))
            FROM messages ORDER BY id
            """)
        #expect(messages.map { $0.string(0) } == ["wamid.QUFBQkJCQ0NDMTIz", "wamid.IMG1", "wamid.T1VUR09JTkcwMDE=", "wamid.FAIL"])
        #expect(messages[0].string(1) == "5511988887777@c.us" && messages[0].string(3) == "Yes, Tuesday works")
        #expect(messages[0].string(6) == "wamid.T1VUR09JTkcwMDE=" && messages[0].string(8) == "wamid.QUFBQkJCQ0NDMTIz", "data is the one message")
        #expect(messages[1].string(3) == "la foto" && messages[1].int(5) == 1 && messages[1].string(4) == "image")
        #expect(messages[2].int(2) == 1 && messages[2][3].isNull && messages[2].string(7) == "read", "created by its status; never downgraded")
        #expect(messages[3].string(7) == "error")
        #expect(try inbox.rows("SELECT display_name FROM contacts WHERE whatsapp_id = '5511977776666@c.us'").first?.string(0) == "Bruno")
        let error = try #require(try inbox.rows("SELECT error_code, error_title FROM message_acks WHERE ack = -1").first)
        #expect(error.int(0) == 131047 && error.string(1) == "Re-engagement message")
        #expect(try inbox.count("pending_acks") == 0)
        #expect(try inbox.count("webhook_deliveries", where: "provider = 'meta' AND status = 'applied'") == 2)
    }

    // MARK: - WAHA

    @Test func wahaMessagesAcksAndSessionStatus() async throws {
        let inbox = try Self.inbox()
        defer { inbox.remove() }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let incoming = #"""
        {"id":"evt_01kb2c3d4e5f6g7h8j9k0m1n2p","timestamp":\#(now),"event":"message","session":"default",
         "me":{"id":"5511900001111@c.us","pushName":"Acme Support"},
         "payload":{"id":"false_5511988887777@c.us_3EB0C431A1B2C3D4E5F6","timestamp":1767225599,
          "from":"5511988887777@c.us","to":"5511900001111@c.us","fromMe":false,"source":"app","participant":null,
          "body":"here it is","hasMedia":true,"media":{"url":"http://waha:3000/api/files/x.jpeg","mimetype":"image/jpeg"},
          "ack":2,"ackName":"DEVICE","replyTo":{"id":"true_5511988887777@c.us_BAE5F00D12345678","body":"Send the receipt?"},
          "_data":{"pushName":"Ana Souza"}},"engine":"NOWEB"}
        """#
        // The same message again as `message.any` (both subscribed): one row.
        let any = incoming.replacingOccurrences(of: #""event":"message""#, with: #""event":"message.any""#)
            .replacingOccurrences(of: "evt_01kb2c3d4e5f6g7h8j9k0m1n2p", with: "evt_01kb2c3d4e5f6g7h8j9k0m1n2q")
        let ackFirst = #"{"id":"evt_a1","timestamp":\#(now),"event":"message.ack","session":"default","payload":{"id":"true_5511988887777@c.us_BAE5F00D12345678","fromMe":true,"ack":3,"ackName":"READ"}}"#
        let sent = #"{"id":"evt_s1","timestamp":\#(now),"event":"message.any","session":"default","payload":{"id":"true_5511988887777@c.us_BAE5F00D12345678","timestamp":1767225500,"from":"5511900001111@c.us","to":"5511988887777@c.us","fromMe":true,"body":"Send the receipt?","hasMedia":false,"ack":1}}"#
        let backward = #"{"id":"evt_a2","timestamp":\#(now),"event":"message.ack","session":"default","payload":{"id":"true_5511988887777@c.us_BAE5F00D12345678","fromMe":true,"ack":2}}"#
        let group = #"{"id":"evt_g1","timestamp":\#(now),"event":"message","session":"default","payload":{"id":"false_120363000000000001@g.us_GRP1_5511977776666@c.us","timestamp":1767225700,"from":"120363000000000001@g.us","to":"5511900001111@c.us","fromMe":false,"participant":"5511977776666@s.whatsapp.net","body":"hola grupo","_data":{"notifyName":"Bruno"}}}"#
        let groupAck = #"{"id":"evt_g2","timestamp":\#(now),"event":"message.ack.group","session":"default","payload":{"id":"true_120363000000000001@g.us_GOUT1_5511977776666@c.us","fromMe":true,"ack":3}}"#
        let groupSent = #"{"id":"evt_g3","timestamp":\#(now),"event":"message.any","session":"default","payload":{"id":"true_120363000000000001@g.us_GOUT1","timestamp":1767225710,"from":"5511900001111@c.us","to":"120363000000000001@g.us","fromMe":true,"body":"respuesta al grupo"}}"#
        let scan = #"{"id":"evt_q","timestamp":\#(now - 2000),"event":"session.status","session":"default","me":null,"payload":{"status":"SCAN_QR_CODE"}}"#
        let working = #"{"id":"evt_w","timestamp":\#(now - 1000),"event":"session.status","session":"default","me":{"id":"5511900001111@s.whatsapp.net"},"payload":{"status":"WORKING"}}"#
        let staleStop = #"{"id":"evt_x","timestamp":\#(now - 5000),"event":"session.status","session":"default","payload":{"status":"STOPPED"}}"#
        try await Self.deliver([incoming, any, ackFirst, sent, backward, group, groupAck, groupSent, scan, working, staleStop].map { GatewayWebhook(.waha, $0) }, into: inbox)

        let rows = try inbox.rows("SELECT message_id, wa_key_id, contact, from_me, author, has_media, quoted_msg_id, status FROM messages ORDER BY id")
        #expect(rows.count == 4, "message + message.any of the same id are one row")
        #expect(rows[0].string(0) == "false_5511988887777@c.us_3EB0C431A1B2C3D4E5F6" && rows[0].string(1) == "3EB0C431A1B2C3D4E5F6")
        #expect(rows[0].int(5) == 1 && rows[0].string(6) == "true_5511988887777@c.us_BAE5F00D12345678" && rows[0].string(7) == "received")
        #expect(rows[1].string(7) == "read", "an ack before its message is kept and applied; a backward one changes nothing")
        #expect(rows[2].string(2) == "120363000000000001@g.us" && rows[2].string(4) == "5511977776666@c.us")
        #expect(rows[3].string(7) == "read", "a group ack with a participant suffix matches by chat and key")
        #expect(try inbox.rows("SELECT display_name FROM contacts WHERE whatsapp_id = '5511988887777@c.us'").first?.string(0) == "Ana Souza")
        let session = try #require(try inbox.rows("SELECT session_id, provider, status, phone_number, qr_code FROM sessions").first)
        #expect(session.string(0) == "waha:default" && session.string(1) == "waha")
        #expect(session.string(2) == "Connected" && session.string(3) == "5511900001111" && session[4].isNull, "an older STOPPED loses")
        #expect(try inbox.count("session_events") == 3)
    }

    // MARK: - Evolution

    @Test func evolutionLidChatsOutgoingUpdatesAndConnection() async throws {
        let inbox = try Self.inbox()
        defer { inbox.remove() }
        let lidReply = #"""
        {"event":"messages.upsert","instance":"acme-01",
         "data":{"key":{"remoteJid":"192837465012345@lid","remoteJidAlt":"5511988887777@s.whatsapp.net","addressingMode":"lid",
          "fromMe":false,"id":"3EB0D41F7A9C2B6E8811"},"pushName":"Ana Souza","status":"DELIVERY_ACK",
          "message":{"conversation":"Can I reschedule?"},
          "contextInfo":{"stanzaId":"BAE5C0FFEE123456","participant":"5511900001111@s.whatsapp.net","quotedMessage":{"conversation":"Your visit is Tuesday 10:00"}},
          "messageType":"conversation","messageTimestamp":1767225600,"instanceId":"8f1c","source":"android"},
         "destination":"https://hooks.example.com/evo","date_time":"2026-01-01T00:00:01.123Z","sender":"5511900001111@s.whatsapp.net","apikey":null}
        """#
        let readFirst = #"{"event":"messages.update","instance":"acme-01","data":{"keyId":"BAE5C0FFEE123456","remoteJid":"5511988887777@s.whatsapp.net","fromMe":true,"participant":null,"status":"READ","messageId":"cmk0example000001"}}"#
        let sent = #"{"event":"send.message","instance":"acme-01","data":{"key":{"remoteJid":"5511988887777@s.whatsapp.net","fromMe":true,"id":"BAE5C0FFEE123456"},"pushName":"Você","status":"PENDING","message":{"extendedTextMessage":{"text":"Your visit is Tuesday 10:00"}},"messageType":"extendedTextMessage","messageTimestamp":1767225500}}"#
        let phone = #"{"event":"messages.upsert","instance":"acme-01","data":{"key":{"remoteJid":"5511988887777@s.whatsapp.net","fromMe":true,"id":"PHONE1"},"pushName":"Acme","message":{"imageMessage":{"caption":"catálogo"}},"messageType":"imageMessage","messageTimestamp":1767225700}}"#
        let deleted = #"{"event":"messages.update","instance":"acme-01","data":{"keyId":"PHONE1","status":"DELETED"}}"#
        let qr = #"{"event":"qrcode.updated","instance":"acme-01","data":{"qrcode":{"instance":"acme-01","code":"2@x","base64":"data:image/png;base64,iVBOR"}}}"#
        let open = #"{"event":"connection.update","instance":"acme-01","data":{"instance":"acme-01","state":"open","statusReason":200,"wuid":"5511900001111@s.whatsapp.net"}}"#
        let webhooks = [lidReply, readFirst, sent, phone, deleted].map { GatewayWebhook(.evolution, $0, path: "/webhooks/evolution/messages-upsert") }
            + [GatewayWebhook(.evolution, qr), GatewayWebhook(.evolution, open)]
        try await Self.deliver(webhooks, into: inbox)

        let rows = try inbox.rows("SELECT message_id, wa_key_id, contact, from_me, body, quoted_msg_id, status, has_media FROM messages ORDER BY id")
        #expect(rows.map { $0.string(0) } == ["false_5511988887777@c.us_3EB0D41F7A9C2B6E8811", "true_5511988887777@c.us_BAE5C0FFEE123456",
                                              "true_5511988887777@c.us_PHONE1"])
        #expect(rows[0].string(2) == "5511988887777@c.us" && rows[0].string(5) == "BAE5C0FFEE123456")
        #expect(rows[1].int(3) == 1 && rows[1].string(4) == "Your visit is Tuesday 10:00" && rows[1].string(6) == "read")
        #expect(rows[2].int(3) == 1 && rows[2].string(4) == "catálogo" && rows[2].int(7) == 1, "sent from the phone: outgoing")
        let contact = try #require(try inbox.rows("SELECT whatsapp_id, lid, display_name FROM contacts").first)
        #expect(contact.string(0) == "5511988887777@c.us" && contact.string(1) == "192837465012345@lid" && contact.string(2) == "Ana Souza")
        // An update without a receipt (Evolution says DELETED; deletions come as messages.delete) changes
        // no message: it is a readable session event.
        #expect(try inbox.count("session_events", where: "summary = 'Message PHONE1 changed (DELETED)'") == 1)
        let session = try #require(try inbox.rows("SELECT session_id, provider, status, phone_number FROM sessions").first)
        #expect(session.string(0) == "evolution:acme-01" && session.string(1) == "evolution")
        #expect(session.string(2) == "Connected" && session.string(3) == "5511900001111")
    }

    // MARK: - The query side covers every gateway

    @Test func queryAndStreamCoverEveryGateway() async throws {
        let inbox = try Self.inbox()
        defer { inbox.remove() }
        try await inbox.run { client async throws in
            for provider in [Provider.meta, .waha, .evolution] {
                let session = provider == .meta ? "420000000000002" : "s1"
                for event in GatewaySamples.events(provider) {
                    let body = String(decoding: GatewaySamples.body(provider, event: event, session: session, key: "K"), as: UTF8.self)
                    #expect(try await client.post(GatewayWebhook(provider, body)).0 == .ok, "\(provider) \(event)")
                }
            }
            #expect(try await client.status(SignedWebhook(json: Payload.received(key: "H1"))) == .ok)
            let (_, _, sessions) = try await client.get("/api/sessions?provider=waha")
            #expect((sessions["data"] as? [[String: Any]])?.map { $0["session_id"] as? String } == ["waha:s1"])
            let (_, _, all) = try await client.get("/api/sessions")
            #expect(Set((all["data"] as? [[String: Any]] ?? []).compactMap { $0["provider"] as? String }) == ["meta", "waha", "evolution", "inbox-hub"])
            let (_, _, stats) = try await client.get("/api/webhooks/stats?provider=evolution")
            #expect((stats["data"] as? [String: Any])?["totalDeliveries"] as? Int == 5)
            let (_, _, log) = try await client.get("/api/webhooks/deliveries?provider=meta")
            #expect((log["data"] as? [[String: Any]])?.count == 2)
            let (bad, _, error) = try await client.get("/api/sessions?provider=telegram")
            #expect(bad == .badRequest && (error["message"] as? String)?.contains("provider") == true)
            let (_, _, stream) = try await client.execute(uri: "/api/events?last_event_id=0&max_events=12", method: .get,
                                                          headers: [.authorization: "Bearer test-token"]) { response in
                (response.status, response.headers, String(buffer: response.body))
            }
            let names = stream.split(separator: "\n").filter { $0.hasPrefix("event: ") }.map { String($0.dropFirst(7)) }
            #expect(names.contains("session.qr") && names.contains("session.connected") && names.contains("message.ack"))
            #expect(names.filter { $0 == "message.received" }.count == 4, "\(names)")
        }
    }
}
