import Foundation
import InboxEvents
import InboxLite
@testable import InboxStore
import Testing

/// Bodies shaped as the gateways really send them, each after a cited public source (fields and
/// nesting from the source; ids, numbers and texts are our own). Every test posts them correctly
/// signed to a real application on a real SQLite file and checks what a CRM agent would see.
@Suite("Real traffic: reactions, edits, deletions, media and typed content")
struct RealTrafficTests {
    static func meta(_ messages: String, field: String = "messages", member: String = "messages", errors: String = "") -> String {
        #"{"object":"whatsapp_business_account","entry":[{"id":"310000000000001","changes":[{"field":"\#(field)","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550001111","phone_number_id":"420000000000002"},"contacts":[{"profile":{"name":"Ana Souza"},"wa_id":"5511988887777","user_id":"BR.8812345678901"}],"\#(member)":[\#(messages)]\#(errors)}}]}]}"#
    }

    static func meta(message: String) -> String {
        meta(#"{"from":"5511988887777","timestamp":"1767225600",\#(message)}"#)
    }

    /// Meta Cloud API message types, after pywa's webhook fixtures (david-lev/pywa
    /// tests/data/updates/message.json, system.json, outgoing_message.json) and Meta's
    /// webhook reference (gateway-dialects.md §1b).
    @Test func metaContentReadsAsThePhoneShowsIt() async throws {
        let inbox = try GatewayTests.inbox()
        defer { inbox.remove() }
        let bodies = [
            // image without caption
            Self.meta(message: #""id":"wamid.IMG1","type":"image","image":{"mime_type":"image/jpeg","sha256":"q1w2e3=","id":"7001"}"#),
            // voice note: audio with voice:true
            Self.meta(message: #""id":"wamid.VOICE1","type":"audio","audio":{"mime_type":"audio/ogg; codecs=opus","sha256":"v0=","id":"7002","voice":true}"#),
            // document with file name and caption, forwarded
            Self.meta(message: #""id":"wamid.DOC1","context":{"forwarded":true},"type":"document","document":{"caption":"Factura octubre","filename":"factura-10.pdf","mime_type":"application/pdf","sha256":"d0=","id":"7003"}"#),
            // animated sticker
            Self.meta(message: #""id":"wamid.STK1","type":"sticker","sticker":{"mime_type":"image/webp","sha256":"s0=","id":"7004","animated":true}"#),
            // a location chosen from the map, and one given only by coordinates
            Self.meta(message: #""id":"wamid.LOC1","type":"location","location":{"latitude":-23.5614,"longitude":-46.6559,"name":"Escritório","address":"Av. Paulista 1000","url":"https://maps.example/p"}"#),
            Self.meta(message: #""id":"wamid.LOC2","type":"location","location":{"latitude":12.25,"longitude":43.9}"#),
            // a shared contact card
            Self.meta(message: #""id":"wamid.VC1","type":"contacts","contacts":[{"name":{"first_name":"Bia","formatted_name":"Bia Lima"},"phones":[{"phone":"+55 11 90000-0000","wa_id":"5511900000000","type":"CELL"}]}]"#),
            // an order from the catalogue
            Self.meta(message: #""id":"wamid.ORD1","type":"order","order":{"catalog_id":"555","text":"sem cebola","product_items":[{"product_retailer_id":"X1","quantity":2,"item_price":30,"currency":"BRL"},{"product_retailer_id":"X2","quantity":1,"item_price":12,"currency":"BRL"}]}"#),
            // unsupported, with Meta's error
            Self.meta(message: #""id":"wamid.UNS1","type":"unsupported","errors":[{"code":131051,"title":"Message type unknown","message":"Message type unknown","error_data":{"details":"Message type is currently not supported."}}],"unsupported":{"type":"poll"}"#),
            // an interactive reply Meta could not decode: the error sits beside messages[]
            Self.meta(#"{"from":"5511988887777","id":"wamid.INT1","timestamp":"1767225600","context":{"from":"15550001111","id":"wamid.OUT0"},"type":"interactive"}"#,
                      errors: #","errors":[{"code":131000,"title":"Something went wrong","message":"Something went wrong","error_data":{"details":"Unsupported webhook payload"}}]"#),
            // a text that came from a click-to-WhatsApp ad
            Self.meta(message: #""id":"wamid.AD1","type":"text","text":{"body":"Quero saber mais"},"referral":{"source_url":"https://fb.example/ad","source_id":"ADID","source_type":"ad","headline":"Promo"}"#),
            // the customer changed number
            Self.meta(message: #""id":"wamid.SYS1","type":"system","system":{"body":"Ana changed from 5511988887777 to 5511977776666","wa_id":"5511977776666","type":"user_changed_number"}"#),
            // sent from the WhatsApp Business app (coexistence): an outgoing message
            Self.meta(#"{"from":"15550001111","to":"5511988887777","id":"wamid.ECHO1","timestamp":"1767225700","type":"text","text":{"body":"Enviado do app"}}"#,
                      field: "smb_message_echoes", member: "message_echoes"),
        ]
        try await GatewayTests.deliver(bodies.map { GatewayWebhook(.meta, $0) }, into: inbox)
        #expect(try inbox.count("webhook_deliveries", where: "status <> 'applied'") == 0)

        func message(_ id: String) throws -> SQLRow {
            try #require(try inbox.rows(
                "SELECT type, gateway_type, body, json(content), from_me, is_forwarded FROM messages WHERE message_id = ?", id
            ).first, "\(id)")
        }
        #expect(try message("wamid.IMG1").string(0) == "image" && message("wamid.IMG1").string(2) == "📷 Photo")
        #expect(try message("wamid.VOICE1").string(0) == "voice" && message("wamid.VOICE1").string(1) == "audio")
        #expect(try message("wamid.DOC1").string(2) == "Factura octubre" && message("wamid.DOC1").int(5) == 1)
        #expect(try message("wamid.LOC1").string(2) == "📍 Escritório, Av. Paulista 1000")
        #expect(try message("wamid.LOC2").string(2) == "📍 12.25, 43.9")
        #expect(try message("wamid.VC1").string(2) == "👤 Bia Lima" && message("wamid.VC1").string(0) == "contacts")
        #expect(try message("wamid.ORD1").string(2) == "🛒 Order (2 items): sem cebola")
        #expect(try message("wamid.UNS1").string(0) == "unsupported" && message("wamid.UNS1").string(2) == "⚠️ Unsupported message (Message type unknown)")
        #expect(try message("wamid.UNS1").string(3)?.contains(#""error_code":131051"#) == true)
        #expect(try message("wamid.INT1").string(0) == "interactive" && message("wamid.INT1").string(3)?.contains(#""error_code":131000"#) == true)
        #expect(try message("wamid.AD1").string(2) == "Quero saber mais" && message("wamid.AD1").string(3)?.contains(#""headline":"Promo""#) == true)
        #expect(try message("wamid.SYS1").string(0) == "system" && message("wamid.SYS1").string(2)?.hasPrefix("Ana changed") == true)
        #expect(try message("wamid.ECHO1").int(4) == 1 && message("wamid.ECHO1").string(2) == "Enviado do app")

        let media = try inbox.rows(
            "SELECT kind, mime_type, file_name, sha256, gateway_media_id, is_animated FROM message_media m JOIN messages x ON x.id = m.message_id ORDER BY x.id"
        )
        #expect(media.map { $0.string(0) } == ["image", "voice", "document", "sticker"])
        #expect(media[2].string(2) == "factura-10.pdf" && media[2].string(1) == "application/pdf" && media[2].string(4) == "7003")
        #expect(media[0].string(3) == "q1w2e3=" && media[3].int(5) == 1)
        #expect(try inbox.count("messages", where: "body IS NULL OR body = ''") == 0, "no blank bubble")

        // The thread API carries the media card, the typed content and the vocabulary.
        try await inbox.run { client in
            let (status, _, thread) = try await client.get("/api/conversations/meta:420000000000002/5511988887777@c.us/messages?limit=50")
            #expect(status == .ok)
            let rows = try #require(thread["data"] as? [[String: Any]])
            let document = try #require(rows.first { $0["message_id"] as? String == "wamid.DOC1" })
            let card = try #require(document["media"] as? [String: Any])
            #expect(card["file_name"] as? String == "factura-10.pdf" && card["kind"] as? String == "document")
            #expect(document["reactions"] as? [Any] != nil && document["deleted"] as? Bool == false)
            let location = try #require(rows.first { $0["message_id"] as? String == "wamid.LOC1" })
            #expect((location["content"] as? [String: Any])?["latitude"] as? Double == -23.5614)
        }
    }

    /// Reactions, edits and deletions for every gateway: Meta (pywa message.json reaction /
    /// unreaction_empty, edited_message.json, deleted_message.json), WAHA (waha-docs
    /// content/docs/how-to/events: message.reaction, message.edited, message.revoked) and Evolution
    /// (evolution-api 2.3.6 whatsapp.baileys.service.ts: reactionMessage in messages.upsert,
    /// messages.edited = the protocolMessage, messages.delete = the key).
    @Test func reactionsEditsAndDeletionsChangeTheirTarget() async throws {
        let inbox = try GatewayTests.inbox()
        defer { inbox.remove() }
        let metaText = Self.meta(message: #""id":"wamid.T1","type":"text","text":{"body":"Chego às dez horas"}"#)
        let metaReact = Self.meta(message: #""id":"wamid.R1","type":"reaction","reaction":{"message_id":"wamid.T1","emoji":"👍"}"#)
        let metaUnreactOther = Self.meta(message: #""id":"wamid.R2","type":"reaction","reaction":{"message_id":"wamid.T2","emoji":""}"#)
        let metaEdit = Self.meta(#"{"from":"5511988887777","id":"wamid.E1","timestamp":"1767225900","type":"edit","edit":{"original_message_id":"wamid.T1","message":{"type":"text","text":{"body":"Chego às onze horas"}}}}"#)
        let metaSecond = Self.meta(message: #""id":"wamid.T2","type":"text","text":{"body":"mensagem secreta"}"#)
        let metaRevoke = Self.meta(message: #""id":"wamid.D1","type":"revoke","revoke":{"original_message_id":"wamid.T2"}"#)

        let wahaMessage = #"{"id":"evt_01","event":"message","session":"default","payload":{"id":"false_5511988887777@c.us_AAA111","timestamp":1767225600,"from":"5511988887777@c.us","fromMe":false,"body":"oi","hasMedia":false,"_data":{"notifyName":"Ana"}},"engine":"WEBJS"}"#
        let wahaReaction = #"{"event":"message.reaction","session":"default","me":{"id":"5511900001111@c.us","pushName":"Acme"},"payload":{"id":"false_5511988887777@c.us_RRR","from":"5511988887777@c.us","fromMe":false,"participant":"5511988887777@c.us","to":"5511900001111@c.us","timestamp":1767225650.853,"reaction":{"text":"🙏","messageId":"false_5511988887777@c.us_AAA111"}},"engine":"WEBJS"}"#
        let wahaEdit = #"{"event":"message.edited","session":"default","payload":{"id":"false_5511988887777@c.us_EDITACTION","from":"5511988887777@c.us","fromMe":false,"timestamp":1767225700,"editedMessageId":"AAA111","body":"olá"},"engine":"NOWEB"}"#
        let wahaRevoked = #"{"event":"message.revoked","session":"default","payload":{"after":{"id":"false_5511988887777@c.us_REVOKEACTION","timestamp":1767225800,"from":"5511988887777@c.us"},"revokedMessageId":"AAA111","before":null},"engine":"NOWEB"}"#

        let evoText = #"{"event":"messages.upsert","instance":"acme-01","data":{"key":{"remoteJid":"5511988887777@s.whatsapp.net","fromMe":false,"id":"3EB0AAA"},"pushName":"Ana","message":{"conversation":"pedido 42"},"messageType":"conversation","messageTimestamp":1767225600},"apikey":"B6D711FCDE4D4FD5936544120E713976"}"#
        let evoReact = #"{"event":"messages.upsert","instance":"acme-01","data":{"key":{"remoteJid":"5511988887777@s.whatsapp.net","fromMe":false,"id":"3EB0BBB"},"pushName":"Ana","message":{"reactionMessage":{"key":{"remoteJid":"5511988887777@s.whatsapp.net","fromMe":false,"id":"3EB0AAA"},"text":"❤️","senderTimestampMs":1767225660000}},"messageType":"reactionMessage","messageTimestamp":1767225660},"apikey":"B6D711FCDE4D4FD5936544120E713976"}"#
        let evoEdit = #"{"event":"messages.edited","instance":"acme-01","data":{"key":{"remoteJid":"5511988887777@s.whatsapp.net","fromMe":false,"id":"3EB0AAA"},"type":"MESSAGE_EDIT","editedMessage":{"conversation":"pedido 43"},"timestampMs":1767225700000},"apikey":"B6D711FCDE4D4FD5936544120E713976"}"#
        let evoVoice = #"{"event":"messages.upsert","instance":"acme-01","data":{"key":{"remoteJid":"5511988887777@s.whatsapp.net","fromMe":false,"id":"3EB0CCC"},"pushName":"Ana","message":{"audioMessage":{"url":"https://mmg.whatsapp.net/v/t62.7117-24/x.enc","mimetype":"audio/ogg; codecs=opus","fileSha256":"h0=","fileLength":"5621","seconds":4,"ptt":true}},"messageType":"audioMessage","messageTimestamp":1767225610},"apikey":"B6D711FCDE4D4FD5936544120E713976"}"#
        let evoDelete = #"{"event":"messages.delete","instance":"acme-01","data":{"remoteJid":"5511988887777@s.whatsapp.net","fromMe":false,"id":"3EB0CCC"},"apikey":"B6D711FCDE4D4FD5936544120E713976"}"#
        // Evolution v1 spread the key into messages.update data (`id`, not `keyId`).
        let evoSent = #"{"event":"send.message","instance":"acme-01","data":{"key":{"remoteJid":"5511988887777@s.whatsapp.net","fromMe":true,"id":"BAE5V1"},"message":{"conversation":"ok"},"messageType":"conversation","messageTimestamp":1767225620}}"#
        let evoV1Read = #"{"event":"messages.update","instance":"acme-01","data":{"id":"BAE5V1","remoteJid":"5511988887777@s.whatsapp.net","fromMe":true,"status":"READ","datetime":1767225630000,"owner":"acme-01"}}"#

        var webhooks = [metaReact, metaText, metaUnreactOther, metaEdit, metaSecond, metaRevoke].map { GatewayWebhook(.meta, $0) }
        webhooks += [wahaReaction, wahaMessage, wahaEdit, wahaRevoked].map { GatewayWebhook(.waha, $0) }
        webhooks += [evoText, evoReact, evoEdit, evoVoice, evoDelete, evoSent, evoV1Read].map { GatewayWebhook(.evolution, $0) }
        try await GatewayTests.deliver(webhooks, into: inbox)
        #expect(try inbox.count("webhook_deliveries", where: "status <> 'applied'") == 0)
        #expect(try inbox.count("pending_message_changes") == 0, "the early reaction was applied when its message came")

        // Reactions are rows against their target, never messages.
        let reactions = try inbox.rows("SELECT x.message_id, r.reactor, r.emoji FROM message_reactions r JOIN messages x ON x.id = r.message_id ORDER BY x.id")
        #expect(reactions.map { "\($0.string(0) ?? "") \($0.string(1) ?? "") \($0.string(2) ?? "-")" } == [
            "wamid.T1 5511988887777@c.us 👍", "wamid.T2 5511988887777@c.us -",
            "false_5511988887777@c.us_AAA111 5511988887777@c.us 🙏", "false_5511988887777@c.us_3EB0AAA 5511988887777@c.us ❤️",
        ])
        #expect(try inbox.count("messages", where: "message_id IN ('wamid.R1', 'wamid.R2', 'false_5511988887777@c.us_3EB0BBB')") == 0)

        // Edits: new text, edited_at, history, search follows.
        let edited = try #require(try inbox.rows("SELECT body, edited_at FROM messages WHERE message_id = 'wamid.T1'").first)
        #expect(edited.string(0) == "Chego às onze horas" && edited.string(1) == "2026-01-01T00:05:00.000Z")
        #expect(try inbox.rows("SELECT previous_body FROM message_edits e JOIN messages x ON x.id = e.message_id WHERE x.message_id = 'wamid.T1'")
            .map { $0.string(0) } == ["Chego às dez horas"])
        #expect(try inbox.rows("SELECT body FROM messages WHERE message_id = 'false_5511988887777@c.us_3EB0AAA'").first?.string(0) == "pedido 43")

        // Deletions: tombstones without text, out of search.
        let tombstones = try inbox.rows("SELECT message_id, body, deleted_at IS NOT NULL, data FROM messages WHERE deleted_at IS NOT NULL ORDER BY id")
        #expect(tombstones.map { $0.string(0) } == ["wamid.T2", "false_5511988887777@c.us_AAA111", "false_5511988887777@c.us_3EB0CCC"])
        #expect(tombstones.allSatisfy { $0[1].isNull && $0.string(3) == "{}" })
        #expect(try inbox.count("message_media") == 0, "the deleted voice note's file is not kept")
        #expect(try inbox.count("message_edits", where: "previous_body IS NOT NULL AND message_id IN (SELECT id FROM messages WHERE deleted_at IS NOT NULL)") == 0)

        // Evolution v1 read receipt applied.
        #expect(try inbox.rows("SELECT status FROM messages WHERE wa_key_id = 'BAE5V1'").first?.string(0) == "read")

        // The apikey is in no stored body.
        #expect(try inbox.count("webhook_deliveries", where: "body LIKE '%B6D711FCDE4D4FD5936544120E713976%'") == 0)
        #expect(try inbox.count("webhook_deliveries", where: "provider = 'evolution' AND \(TestInbox.jsonPath("body", "apikey")) = '[removed]'") == 5)

        // What the API and search show.
        try await inbox.run { client in
            let (_, _, hits) = try await client.get("/api/search?q=secreta")
            #expect((hits["data"] as? [Any])?.isEmpty == true, "a deleted message leaves search")
            let (_, _, found) = try await client.get("/api/search?q=onze")
            #expect((found["data"] as? [Any])?.count == 1, "search finds the edited text")
            let (_, _, old) = try await client.get("/api/search?q=dez")
            #expect((old["data"] as? [Any])?.isEmpty == true, "and no longer the old one")
            let (_, _, thread) = try await client.get("/api/conversations/meta:420000000000002/5511988887777@c.us/messages")
            let rows = try #require(thread["data"] as? [[String: Any]])
            let first = try #require(rows.first { $0["message_id"] as? String == "wamid.T1" })
            #expect(first["edited"] as? Bool == true && (first["reactions"] as? [[String: Any]])?.first?["emoji"] as? String == "👍")
            let gone = try #require(rows.first { $0["message_id"] as? String == "wamid.T2" })
            #expect(gone["deleted"] as? Bool == true && gone["body"] == nil && (gone["reactions"] as? [Any])?.isEmpty == true)
        }
    }

    /// One contact per person per session: the same customer writing to two numbers is a contact
    /// of each (before, the second session had none).
    @Test func aCustomerOfTwoSessionsIsAContactOfEach() async throws {
        let inbox = try GatewayTests.inbox()
        defer { inbox.remove() }
        let first = Payload.received(key: "A1", session: "alpha")
        let second = Payload.received(key: "B1", session: "beta")
        try await inbox.run { client in
            for (body, session) in [(first, "alpha"), (second, "beta")] {
                #expect(try await client.status(SignedWebhook(json: body, session: session)) == .ok)
            }
            let (_, _, beta) = try await client.get("/api/contacts?session=beta")
            #expect((beta["data"] as? [Any])?.count == 1)
            let (status, _, one) = try await client.get("/api/contacts/34612345678@c.us?session=beta")
            #expect(status == .ok && (one["data"] as? [String: Any])?["session_id"] as? String == "beta")
        }
        #expect(try inbox.rows("SELECT session_id FROM contacts ORDER BY session_id").map { $0.string(0) } == ["alpha", "beta"])
    }

    /// Meta documents payloads of up to 3 MB (gateway-dialects.md §1d; a batch of up to 1,000
    /// updates): such a body is accepted by default and every message in it applied.
    @Test func aThreeMegabyteMetaBatchIsAcceptedByDefault() async throws {
        var inbox = try GatewayTests.inbox()
        defer { inbox.remove() }
        inbox.configuration.maxBodyBytes = AppConfiguration.defaultMaxBodyBytes
        let text = String(repeating: "Lorem ipsum dolor sit amet. ", count: 106)
        let messages = (0..<1000).map { #"{"from":"5511988887777","id":"wamid.BIG\#($0)","timestamp":"1767225600","type":"text","text":{"body":"\#($0) \#(text)"}}"# }
        let body = Self.meta(messages.joined(separator: ","))
        #expect(body.utf8.count > 3_000_000)
        try await GatewayTests.deliver([GatewayWebhook(.meta, body)], into: inbox)
        #expect(try inbox.count("messages", where: "message_id LIKE 'wamid.BIG%'") == 1000)
    }

    /// An upgrade learns what an older build stored as `ignored`: `replay --status ignored`
    /// applies a reaction, an edit and a deletion kept from before.
    @Test func replayingIgnoredDeliveriesAppliesWhatAnOlderBuildSkipped() async throws {
        let inbox = try GatewayTests.inbox()
        defer { inbox.remove() }
        let text = Self.meta(message: #""id":"wamid.OLD1","type":"text","text":{"body":"texto antigo"}"#)
        let react = Self.meta(message: #""id":"wamid.OLDR","type":"reaction","reaction":{"message_id":"wamid.OLD1","emoji":"🔥"}"#)
        let edit = Self.meta(#"{"from":"5511988887777","id":"wamid.OLDE","timestamp":"1767225900","type":"edit","edit":{"original_message_id":"wamid.OLD1","message":{"type":"text","text":{"body":"texto novo"}}}}"#)
        try await GatewayTests.deliver([text, react, edit].map { GatewayWebhook(.meta, $0) }, into: inbox)
        // As an older build left them: the reaction and the edit stored as ignored, nothing applied.
        try inbox.execute("""
            DELETE FROM message_reactions; DELETE FROM message_edits;
            UPDATE messages SET body = 'texto antigo', edited_at = NULL;
            UPDATE webhook_deliveries SET status = 'ignored' WHERE body LIKE '%wamid.OLDR%' OR body LIKE '%wamid.OLDE%';
            """)
        let summary = try inbox.withWriter { try $0.replay(status: .ignored) }
        #expect(summary.total == 2 && summary.applied == 2)
        #expect(try inbox.rows("SELECT body, edited_at IS NOT NULL FROM messages WHERE message_id = 'wamid.OLD1'").first?.string(0) == "texto novo")
        #expect(try inbox.count("message_reactions", where: "emoji = '🔥'") == 1)
    }
}
