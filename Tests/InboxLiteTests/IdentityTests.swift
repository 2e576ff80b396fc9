import Foundation
import InboxEvents
@testable import InboxStore
import Testing

/// One contact per person per session whatever identifier a gateway uses; groups, names and
/// per-member receipts; account events kept readable. Bodies are shaped after the cited sources
/// (ids, numbers and texts are our own).
@Suite("Identities, groups and names: one person is one contact")
struct IdentityTests {
    // Evolution API 2.3.5+ (whatsapp.baileys.service.ts, the raw Baileys key; gateway-dialects.md §3):
    // a chat addressed by @lid, with and without the phone in `remoteJidAlt`.
    static let evoLidOnly = #"{"event":"messages.upsert","instance":"acme-01","data":{"key":{"remoteJid":"24666483777619@lid","fromMe":false,"id":"3EB0L1","addressingMode":"lid"},"pushName":"percy alvarez E1","message":{"conversation":"hola"},"messageType":"conversation","messageTimestamp":1767225600}}"#
    static let evoPhoneOnly = #"{"event":"messages.upsert","instance":"acme-01","data":{"key":{"remoteJid":"59171146267@s.whatsapp.net","fromMe":false,"id":"3EB0P1"},"pushName":"percy alvarez E1","message":{"conversation":"sigo aquí"},"messageType":"conversation","messageTimestamp":1767225700}}"#
    static let evoBoth = #"{"event":"messages.upsert","instance":"acme-01","data":{"key":{"remoteJid":"24666483777619@lid","remoteJidAlt":"59171146267@s.whatsapp.net","fromMe":false,"id":"3EB0B1","addressingMode":"lid"},"pushName":"percy alvarez E1","message":{"conversation":"¿me oyen?"},"messageType":"conversation","messageTimestamp":1767225800}}"#
    static let evoReply = #"{"event":"send.message","instance":"acme-01","data":{"key":{"remoteJid":"24666483777619@lid","fromMe":true,"id":"BAE5R1"},"pushName":"Acme Store","message":{"conversation":"sí, dígame"},"messageType":"conversation","messageTimestamp":1767225750}}"#

    /// What a CRM sees of the session's people, independent of row ids.
    static func people(_ inbox: TestInbox) throws -> [String] {
        try inbox.rows(
            """
            SELECT c.whatsapp_id, COALESCE(c.display_name, '-'),
                   (SELECT group_concat(identifier, ' ') FROM (SELECT identifier FROM contact_identities i WHERE i.contact_id = c.id ORDER BY identifier) AS identities),
                   COALESCE((SELECT message_count || '/' || unread_count FROM conversations v WHERE v.session_id = c.session_id AND v.contact = c.whatsapp_id), '-'),
                   (SELECT count(*) FROM messages m WHERE m.session_id = c.session_id AND m.contact = c.whatsapp_id)
            FROM contacts c ORDER BY c.whatsapp_id
            """
        ).map { row in (0..<5).map { row[$0].int.map(String.init) ?? row.string($0) ?? "" }.joined(separator: " | ") }
    }

    /// Evolution: a person writing from a @lid and from a phone is one contact, filed under the
    /// phone, with one conversation — whichever order the four bodies arrive in.
    @Test func aLidAndAPhoneOfOnePersonAreOneContactInAnyOrder() async throws {
        let bodies = [Self.evoLidOnly, Self.evoPhoneOnly, Self.evoBoth, Self.evoReply]
        let expected = ["59171146267@c.us | percy alvarez E1 | 24666483777619@lid 59171146267@c.us | 4/1 | 4"]
        for order in [[0, 1, 2, 3], [2, 0, 3, 1], [1, 3, 0, 2], [3, 2, 1, 0]] {
            let inbox = try GatewayTests.inbox()
            defer { inbox.remove() }
            try await GatewayTests.deliver(order.map { GatewayWebhook(.evolution, bodies[$0]) }, into: inbox)
            #expect(try Self.people(inbox) == expected, "order \(order)")
            #expect(try inbox.count("conversations") == 1)
        }
    }

    /// The merge is recorded, announced on the stream, and the API finds the contact and its
    /// conversation by either identifier.
    @Test func aMergeIsRecordedStreamedAndFoundByEitherIdentifier() async throws {
        let inbox = try GatewayTests.inbox()
        defer { inbox.remove() }
        try await inbox.run { client in
            try await client.post(GatewayWebhook(.evolution, Self.evoLidOnly))
            try await client.post(GatewayWebhook(.evolution, Self.evoPhoneOnly))
            let (status, _) = try await client.post(GatewayWebhook(.evolution, Self.evoBoth))
            #expect(status == .ok)
            let (_, _, contact) = try await client.get("/api/contacts/24666483777619@lid?session=evolution:acme-01")
            let data = try #require(contact["data"] as? [String: Any])
            #expect(data["whatsapp_id"] as? String == "59171146267@c.us")
            #expect((data["identities"] as? [[String: Any]])?.compactMap { $0["kind"] as? String }.sorted() == ["lid", "phone"])
            let merges = try #require(data["merges"] as? [[String: Any]])
            #expect(merges.count == 1 && merges.first?["merged_whatsapp_id"] as? String == "24666483777619@lid")
            let (_, _, thread) = try await client.get("/api/conversations/evolution:acme-01/24666483777619@lid/messages")
            #expect((thread["data"] as? [Any])?.count == 3, "the @lid still reaches the merged thread")
            let (_, text) = try await client.raw("/api/events?last_event_id=0&max_events=4")
            #expect(text.contains("event: contact.merged") && text.contains(#""merged_whatsapp_id":"24666483777619@lid""#))
        }
        #expect(try inbox.rows("SELECT reason, whatsapp_id FROM contact_merges").map { "\($0.string(0)!) \($0.string(1)!)" }
                == ["same_sender 59171146267@c.us"])
    }

    /// Meta: a BSUID-only message (a user with a username, no phone), the same user with phone
    /// and BSUID, then a number change (pywa tests/data/updates/system.json; gateway-dialects.md
    /// §1b "BSUID/usernames"): one contact, under the new number; the change notice is not unread.
    @Test func metaBSUIDsAndNumberChangesKeepOnePerson() async throws {
        func meta(_ contacts: String, _ message: String) -> String {
            #"{"object":"whatsapp_business_account","entry":[{"id":"310000000000001","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550001111","phone_number_id":"420000000000002"},"contacts":[\#(contacts)],"messages":[\#(message)]}}]}]}"#
        }
        let bsuidOnly = meta(#"{"profile":{"name":"Ana","username":"ana.s"},"user_id":"BR.8812345678901"}"#,
                             #"{"from_user_id":"BR.8812345678901","id":"wamid.U1","timestamp":"1767225600","type":"text","text":{"body":"oi, sou a Ana"}}"#)
        let phoneAndBSUID = meta(#"{"profile":{"name":"Ana Souza"},"wa_id":"5511988887777","user_id":"BR.8812345678901"}"#,
                                 #"{"from":"5511988887777","from_user_id":"BR.8812345678901","id":"wamid.U2","timestamp":"1767225700","type":"text","text":{"body":"meu número"}}"#)
        let changed = meta(#"{"profile":{"name":"Ana Souza"},"wa_id":"5511988887777"}"#,
                           #"{"from":"5511988887777","id":"wamid.U3","timestamp":"1767225800","type":"system","system":{"body":"Ana changed from 5511988887777 to 5511977776666","wa_id":"5511977776666","type":"user_changed_number"}}"#)
        let fromNew = meta(#"{"profile":{"name":"Ana Souza"},"wa_id":"5511977776666"}"#,
                           #"{"from":"5511977776666","id":"wamid.U4","timestamp":"1767225900","type":"text","text":{"body":"número novo"}}"#)
        let bodies = [bsuidOnly, phoneAndBSUID, changed, fromNew]
        for order in [[0, 1, 2, 3], [3, 2, 1, 0], [2, 0, 3, 1]] {
            let inbox = try GatewayTests.inbox()
            defer { inbox.remove() }
            try await GatewayTests.deliver(order.map { GatewayWebhook(.meta, bodies[$0]) }, into: inbox)
            #expect(try Self.people(inbox) == [
                "5511977776666@c.us | Ana Souza | 5511977776666@c.us 5511988887777@c.us @ana.s BR.8812345678901 | 4/3 | 4",
            ], "order \(order)")
        }
    }

    // WAHA group events (waha-docs content/docs/how-to/groups/events-group.v2.*.md) and a NOWEB group
    // message whose author writes from a @lid with `participantAlt` (Baileys key).
    static let wahaJoin = #"{"event":"group.v2.join","session":"default","payload":{"group":{"id":"120363000000000001@g.us","subject":"Pedidos Centro","description":"Grupo de pedidos","participants":[{"id":"5511988887777@c.us","role":"admin"},{"id":"77770000000001@lid","pn":"5511966665555@c.us","role":"participant"}]},"timestamp":1767225000},"engine":"NOWEB"}"#
    static let wahaGroupMessage = #"{"event":"message","session":"default","payload":{"id":"false_120363000000000001@g.us_3EB0G1_77770000000001@lid","timestamp":1767225600,"from":"120363000000000001@g.us","fromMe":false,"participant":"77770000000001@lid","body":"dois cafés","hasMedia":false,"_data":{"key":{"remoteJid":"120363000000000001@g.us","fromMe":false,"id":"3EB0G1","participant":"77770000000001@lid","participantAlt":"5511966665555@s.whatsapp.net"},"pushName":"Caio","message":{"conversation":"dois cafés"}}},"engine":"NOWEB"}"#
    static let wahaOurs = #"{"event":"message.any","session":"default","payload":{"id":"true_120363000000000001@g.us_3EB0OURS","timestamp":1767225650,"from":"5511900001111@c.us","to":"120363000000000001@g.us","fromMe":true,"body":"anotado","hasMedia":false,"ack":1},"engine":"WEBJS"}"#
    static let wahaGroupAck = #"{"event":"message.ack.group","session":"default","payload":{"id":"true_120363000000000001@g.us_3EB0OURS_5511988887777@c.us","from":"120363000000000001@g.us","participant":"5511988887777@c.us","fromMe":true,"ack":3,"ackName":"READ","timestamp":1767225700},"engine":"WEBJS"}"#
    static let wahaPromote = #"{"event":"group.v2.participants","session":"default","payload":{"type":"promote","timestamp":1767225800,"group":{"id":"120363000000000001@g.us"},"participants":[{"id":"77770000000001@lid","role":"admin"}]},"engine":"NOWEB"}"#
    static let wahaSubject = #"{"event":"group.v2.update","session":"default","payload":{"group":{"id":"120363000000000001@g.us","subject":"Pedidos Centro 2"},"timestamp":1767225900},"engine":"NOWEB"}"#

    /// Groups: subject and members from group events, the author of a group message resolved to
    /// a contact with their name (shown in the thread), each member's receipt kept.
    @Test func groupsNameTheirAuthorsAndKeepEachMembersReceipt() async throws {
        let inbox = try GatewayTests.inbox()
        defer { inbox.remove() }
        try await GatewayTests.deliver([Self.wahaJoin, Self.wahaGroupMessage, Self.wahaOurs, Self.wahaGroupAck, Self.wahaPromote,
                                        Self.wahaSubject].map { GatewayWebhook(.waha, $0) }, into: inbox)
        #expect(try inbox.count("webhook_deliveries", where: "status <> 'applied'") == 0)
        #expect(try inbox.rows("SELECT subject, description FROM groups").map { "\($0.string(0)!) / \($0.string(1)!)" }
                == ["Pedidos Centro 2 / Grupo de pedidos"])
        #expect(try inbox.rows("SELECT member, role FROM group_members ORDER BY member").map { "\($0.string(0)!) \($0.string(1)!)" }
                == ["5511988887777@c.us admin", "77770000000001@lid admin"])
        #expect(try inbox.rows("SELECT author FROM messages WHERE wa_key_id = '3EB0G1'").first?.string(0) == "5511966665555@c.us",
                "the author is filed under the phone the key gave")
        #expect(try inbox.rows("SELECT participant, status FROM message_receipts").map { "\($0.string(0)!) \($0.string(1)!)" }
                == ["5511988887777@c.us read"])
        try await inbox.run { client in
            let (_, _, thread) = try await client.get("/api/conversations/waha:default/120363000000000001@g.us/messages?order=asc")
            let rows = try #require(thread["data"] as? [[String: Any]])
            #expect(rows.first?["author_name"] as? String == "Caio")
            #expect((rows.last?["receipts"] as? [[String: Any]])?.first?["status"] as? String == "read")
            let (_, _, conversations) = try await client.get("/api/conversations?session=waha:default")
            #expect((conversations["data"] as? [[String: Any]])?.first?["display_name"] as? String == "Pedidos Centro 2")
            let (_, _, groups) = try await client.get("/api/groups?session=waha:default")
            let group = try #require((groups["data"] as? [[String: Any]])?.first)
            #expect((group["members"] as? [[String: Any]])?.count == 2)
        }
    }

    /// Evolution group events (whatsapp.baileys.service.ts groups.upsert / group-participants.update
    /// with participantsData; Baileys GroupMetadata) and contacts.update names.
    @Test func evolutionGroupsAndContactNames() async throws {
        let inbox = try GatewayTests.inbox()
        defer { inbox.remove() }
        let upsert = #"{"event":"groups.upsert","instance":"acme-01","data":[{"id":"120363111111111111@g.us","subject":"Equipe","subjectOwner":"5511988887777@s.whatsapp.net","subjectTime":1767200000,"creation":1767200000,"desc":"Avisos","participants":[{"id":"5511988887777@s.whatsapp.net","admin":"superadmin"},{"id":"5511955554444@s.whatsapp.net","admin":null}]}],"apikey":"B6D711FCDE4D4FD5936544120E713976"}"#
        let added = #"{"event":"group-participants.update","instance":"acme-01","data":{"id":"120363111111111111@g.us","author":"5511988887777@s.whatsapp.net","participants":["33330000000002@lid"],"action":"add","participantsData":[{"jid":"33330000000002@lid","phoneNumber":"5511944443333","name":"Duda"}]}}"#
        let removed = #"{"event":"group-participants.update","instance":"acme-01","data":{"id":"120363111111111111@g.us","participants":["5511955554444@s.whatsapp.net"],"action":"remove"}}"#
        let message = #"{"event":"messages.upsert","instance":"acme-01","data":{"key":{"remoteJid":"5511944443333@s.whatsapp.net","fromMe":false,"id":"3EB0D1"},"pushName":"","message":{"conversation":"oi"},"messageType":"conversation","messageTimestamp":1767225600}}"#
        let contacts = #"{"event":"contacts.update","instance":"acme-01","data":[{"remoteJid":"5511944443333@s.whatsapp.net","pushName":"Duda Martins","profilePicUrl":null},{"remoteJid":"5511922221111@s.whatsapp.net","pushName":"5511922221111"}]}"#
        let emptyName = #"{"event":"contacts.update","instance":"acme-01","data":{"remoteJid":"5511944443333@s.whatsapp.net","pushName":""}}"#
        try await GatewayTests.deliver([upsert, added, removed, message, contacts, emptyName].map { GatewayWebhook(.evolution, $0) }, into: inbox)
        #expect(try inbox.count("webhook_deliveries", where: "status <> 'applied'") == 0)
        #expect(try inbox.rows("SELECT member, role, COALESCE(name, '-') FROM group_members ORDER BY member")
            .map { "\($0.string(0)!) \($0.string(1)!) \($0.string(2)!)" }
            == ["33330000000002@lid member Duda", "5511988887777@c.us superadmin -"])
        #expect(try inbox.rows("SELECT display_name FROM contacts WHERE whatsapp_id = '5511944443333@c.us'").first?.string(0) == "Duda Martins",
                "an empty name never clears one; a number is no name")
        #expect(try inbox.count("contacts", where: "whatsapp_id = '5511922221111@c.us'") == 0 ||
                inbox.rows("SELECT display_name FROM contacts WHERE whatsapp_id = '5511922221111@c.us'").first?[0].isNull == true)
        #expect(try inbox.rows("SELECT source FROM contact_names n JOIN contacts c ON c.id = n.contact_id WHERE c.whatsapp_id = '5511944443333@c.us'")
            .map { $0.string(0) } == ["profile"])
    }

    /// The business's own name (a pushName on its own messages, its own number in contacts.update)
    /// never becomes the customer's.
    @Test func theBusinessNameNeverBecomesTheCustomers() async throws {
        let inbox = try GatewayTests.inbox()
        defer { inbox.remove() }
        let open = #"{"event":"connection.update","instance":"acme-01","data":{"instance":"acme-01","wuid":"5511900001111@s.whatsapp.net","state":"open","statusReason":200}}"#
        let ownContact = #"{"event":"contacts.update","instance":"acme-01","data":{"remoteJid":"5511900001111@s.whatsapp.net","pushName":"Acme Store"}}"#
        try await GatewayTests.deliver([open, Self.evoReply, ownContact].map { GatewayWebhook(.evolution, $0) }, into: inbox)
        #expect(try inbox.count("contact_names", where: "name = 'Acme Store'") == 0)
        #expect(try inbox.count("contacts", where: "display_name = 'Acme Store'") == 0)
    }

    /// Account-wide and session events that change no row are applied as readable session events
    /// (pywa tests/data/updates/account_update.json, template_status_update.json; WAHA presence.update
    /// and engine.event in waha-docs content/docs/how-to/events).
    @Test func accountAndPresenceEventsAreReadableSessionEvents() async throws {
        let inbox = try GatewayTests.inbox()
        defer { inbox.remove() }
        let first = #"{"object":"whatsapp_business_account","entry":[{"id":"310000000000001","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550001111","phone_number_id":"420000000000002"},"contacts":[{"profile":{"name":"Ana"},"wa_id":"5511988887777"}],"messages":[{"from":"5511988887777","id":"wamid.A1","timestamp":"1767225600","type":"text","text":{"body":"oi"}}]}}]}]}"#
        let template = #"{"object":"whatsapp_business_account","entry":[{"id":"310000000000001","time":1767226000,"changes":[{"field":"message_template_status_update","value":{"event":"APPROVED","message_template_id":1234,"message_template_name":"pedido_pronto","message_template_language":"pt_BR","reason":"NONE"}}]}]}"#
        let account = #"{"object":"whatsapp_business_account","entry":[{"id":"310000000000001","time":1767226100,"changes":[{"field":"account_update","value":{"event":"ACCOUNT_VIOLATION","violation_info":{"violation_type":"ADULT"}}}]}]}"#
        let otherAccount = #"{"object":"whatsapp_business_account","entry":[{"id":"399999999999999","time":1767226100,"changes":[{"field":"account_update","value":{"event":"ACCOUNT_DELETED"}}]}]}"#
        let presence = #"{"event":"presence.update","session":"default","payload":{"id":"5511988887777@c.us","presences":[{"participant":"5511988887777@c.us","lastKnownPresence":"typing","lastSeen":null}]},"engine":"NOWEB"}"#
        try await GatewayTests.deliver([first, template, account, otherAccount].map { GatewayWebhook(.meta, $0) } + [GatewayWebhook(.waha, presence)],
                                       into: inbox)
        #expect(try inbox.count("webhook_deliveries", where: "status <> 'applied'") == 0)
        #expect(try inbox.rows("SELECT session_id, summary FROM session_events ORDER BY id").map { "\($0.string(0)!): \($0.string(1)!)" } == [
            "meta:420000000000002: Template pedido_pronto: APPROVED",
            "meta:420000000000002: Account update: ACCOUNT_VIOLATION (ADULT)",
            "meta:waba:399999999999999: Account update: ACCOUNT_DELETED",
            "waha:default: Presence 5511988887777@c.us: typing",
        ])
        try await inbox.run { client in
            let (status, _, events) = try await client.get("/api/sessions/meta:420000000000002/events")
            #expect(status == .ok && (events["data"] as? [[String: Any]])?.first?["summary"] as? String == "Account update: ACCOUNT_VIOLATION (ADULT)")
        }
    }

    /// Polls: WAHA poll.vote (waha-docs content/docs/how-to/events "poll.vote"), arriving before its
    /// poll, and Evolution's tally in messages.update `pollUpdates` (whatsapp.baileys.service.ts,
    /// getAggregateVotesInPollMessage): each voter's current vote on the poll message.
    @Test func pollVotesShowOnThePoll() async throws {
        let inbox = try GatewayTests.inbox()
        defer { inbox.remove() }
        let wahaVote = #"{"event":"poll.vote","session":"default","payload":{"vote":{"id":"false_5511988887777@c.us_83ACBE60","to":"me","from":"5511988887777@c.us","fromMe":false,"selectedOptions":["Terça"],"timestamp":1767225700},"poll":{"id":"true_5511988887777@c.us_BAE5POLL1","to":"5511988887777@c.us","from":"me","fromMe":true}},"engine":"NOWEB"}"#
        let wahaPoll = #"{"event":"message.any","session":"default","payload":{"id":"true_5511988887777@c.us_BAE5POLL1","timestamp":1767225600,"from":"5511900001111@c.us","to":"5511988887777@c.us","fromMe":true,"body":"","hasMedia":false,"_data":{"key":{"remoteJid":"5511988887777@s.whatsapp.net","fromMe":true,"id":"BAE5POLL1"},"message":{"pollCreationMessageV3":{"name":"Qual dia?","options":[{"optionName":"Terça"},{"optionName":"Quinta"}],"selectableOptionsCount":1}}}},"engine":"NOWEB"}"#
        let evoPoll = #"{"event":"send.message","instance":"acme-01","data":{"key":{"remoteJid":"5511988887777@s.whatsapp.net","fromMe":true,"id":"3EB0POLL2"},"message":{"pollCreationMessage":{"name":"Entrega?","options":[{"optionName":"Sim"},{"optionName":"Não"}],"selectableOptionsCount":1}},"messageType":"pollCreationMessage","messageTimestamp":1767225600}}"#
        let evoTally = #"{"event":"messages.update","instance":"acme-01","data":{"keyId":"3EB0POLL2","remoteJid":"5511988887777@s.whatsapp.net","fromMe":true,"status":"DELETED","pollUpdates":[{"name":"Sim","voters":["5511988887777@s.whatsapp.net"]},{"name":"Não","voters":[]}],"instanceId":"b1c2"}}"#
        try await GatewayTests.deliver([GatewayWebhook(.waha, wahaVote), GatewayWebhook(.waha, wahaPoll),
                                        GatewayWebhook(.evolution, evoPoll), GatewayWebhook(.evolution, evoTally)], into: inbox)
        #expect(try inbox.count("webhook_deliveries", where: "status <> 'applied'") == 0)
        try await inbox.run { client in
            for (session, body, choice) in [("waha:default", "Qual dia?", "Terça"), ("evolution:acme-01", "Entrega?", "Sim")] {
                let (_, _, thread) = try await client.get("/api/conversations/\(session)/5511988887777@c.us/messages")
                let poll = try #require((thread["data"] as? [[String: Any]])?.first)
                #expect((poll["body"] as? String)?.contains(body) == true && poll["type"] as? String == "poll")
                let votes = try #require(poll["votes"] as? [[String: Any]])
                #expect(votes.count == 1 && votes.first?["voter"] as? String == "5511988887777@c.us"
                        && votes.first?["options"] as? [String] == [choice], "\(session): \(votes)")
            }
        }
    }

    /// History sync (Evolution messages.set / chats.set, whatsapp.baileys.service.ts
    /// messaging-history.set): stored as backfilled, not unread, one stream event per batch.
    @Test func historySyncIsBackfilledNotUnreadAndOneEvent() async throws {
        let inbox = try GatewayTests.inbox()
        defer { inbox.remove() }
        let messages = (1...30).map { n in
            #"{"key":{"remoteJid":"5511988887777@s.whatsapp.net","fromMe":\#(n % 3 == 0),"id":"HIST\#(n)"},"pushName":"Ana","message":{"conversation":"antiga \#(n)"},"messageType":"conversation","messageTimestamp":\#(1767000000 + n)}"#
        }
        let set = #"{"event":"messages.set","instance":"acme-01","data":[\#(messages.joined(separator: ","))]}"#
        let chats = #"{"event":"chats.set","instance":"acme-01","data":[{"remoteJid":"5511988887777@s.whatsapp.net","instanceId":"b1c2","name":"Ana (cliente VIP)"},{"remoteJid":"120363222222222222@g.us","instanceId":"b1c2","name":"Fornecedores"}]}"#
        let live = #"{"event":"messages.upsert","instance":"acme-01","data":{"key":{"remoteJid":"5511988887777@s.whatsapp.net","fromMe":false,"id":"LIVE1"},"pushName":"Ana","message":{"conversation":"nova"},"messageType":"conversation","messageTimestamp":1767225600}}"#
        try await GatewayTests.deliver([set, chats, live].map { GatewayWebhook(.evolution, $0) }, into: inbox)
        #expect(try inbox.count("messages", where: "backfilled = 1") == 30)
        #expect(try inbox.rows("SELECT message_count, unread_count FROM conversations WHERE contact = '5511988887777@c.us'")
            .map { "\($0.int(0)!)/\($0.int(1)!)" } == ["31/1"], "only the live message is unread")
        #expect(try inbox.rows("SELECT display_name FROM contacts WHERE whatsapp_id = '5511988887777@c.us'").first?.string(0) == "Ana (cliente VIP)",
                "the address book's name comes before the push name")
        #expect(try inbox.rows("SELECT subject FROM groups").map { $0.string(0) } == ["Fornecedores"])
        try await inbox.run { client in
            let (_, text) = try await client.raw("/api/events?last_event_id=0&max_events=3")
            #expect(text.components(separatedBy: "event: history.synced").count - 1 == 2, "one event per batch, not one per message")
            #expect(text.components(separatedBy: "event: message.received").count - 1 == 1)
        }
    }
}
