import Foundation
import HummingbirdTesting
import Testing

@Suite("Applying events: final state independent of order and repeats")
struct EventApplicationTests {
    /// Posts each body in order, expecting 200 for all, and returns the inbox for inspection.
    private func deliver(_ bodies: [String], inbox: TestInbox? = nil) async throws -> TestInbox {
        let inbox = try inbox ?? TestInbox()
        try await inbox.run { client async throws in
            for body in bodies {
                let (status, json) = try await client.post(SignedWebhook(json: body))
                #expect(status == .ok, "\(json)")
            }
        }
        return inbox
    }

    @Test func receivedMessageCreatesSessionContactAndMessage() async throws {
        let inbox = try await deliver([Payload.received(key: "3EB0", body: "Hola, ¿cómo estás?", extra: #","notifyName":"Ana","vendorField":{"x":1}"#)])
        defer { inbox.remove() }
        let message = try #require(try inbox.rows("""
            SELECT message_id, wa_key_id, session_id, contact, from_me, body, type, timestamp, status, ack,
                   message_time, \(TestInbox.jsonPath("data", "vendorField", "x")), has_media, is_status, gateway_type
            FROM messages
            """).first)
        #expect(message.string(0) == "false_34612345678@c.us_3EB0_in")
        #expect(message.string(1) == "3EB0")
        #expect(message.string(2) == "crm")
        #expect(message.string(3) == "34612345678@c.us")
        #expect(message.int(4) == 0)
        #expect(message.string(5) == "Hola, ¿cómo estás?")
        #expect(message.string(6) == "text" && message.string(14) == "chat", "one vocabulary; the gateway's word kept")
        #expect(message.int(7) == 1_729_443_600)
        #expect(message.string(8) == "received")
        #expect(message[9].isNull)
        #expect(message.string(10) == "2024-10-20T17:00:00Z")
        #expect(message[11].textForm == "1", "unknown fields are kept in data")
        #expect(message.int(12) == 0 && message.int(13) == 0)

        let contact = try #require(try inbox.rows(
            "SELECT whatsapp_id, session_id, phone_number, is_group, display_name, first_message_at, last_message_at FROM contacts"
        ).first)
        #expect(contact.string(0) == "34612345678@c.us")
        #expect(contact.string(1) == "crm")
        #expect(contact.string(2) == "34612345678")
        #expect(contact.int(3) == 0)
        #expect(contact.string(4) == "Ana")
        #expect(contact.int(5) == 1_729_443_600 && contact.int(6) == 1_729_443_600)

        let session = try #require(try inbox.rows("SELECT session_id, status, is_connected FROM sessions").first)
        #expect(session.string(0) == "crm" && session.string(1) == "Pending" && session.int(2) == 0)
        let delivery = try #require(try inbox.rows("SELECT event, session_id, status, attempts, length(body_sha256) FROM webhook_deliveries").first)
        #expect(delivery.string(0) == "message.received" && delivery.string(1) == "crm")
        #expect(delivery.string(2) == "applied" && delivery.int(3) == 1 && delivery.int(4) == 64)
    }

    @Test func sentMessageFromThePhoneIsInsertedThenUpdated() async throws {
        let inbox = try await deliver([
            Payload.sent(key: "S1", body: "first"),
            Payload.sent(key: "S1", body: "edited", timestamp: 1_729_443_611),
        ])
        defer { inbox.remove() }
        let rows = try inbox.rows("SELECT from_me, body, status, contact FROM messages")
        #expect(rows.count == 1)
        #expect(rows[0].int(0) == 1 && rows[0].string(1) == "edited" && rows[0].string(2) == "sent")
        #expect(rows[0].string(3) == "34612345678@c.us")
    }

    @Test func ackMatchesTheShortIdTheGatewaySends() async throws {
        let inbox = try await deliver([Payload.sent(key: "3EB0SHORT"), Payload.ack("3EB0SHORT", 3)])
        defer { inbox.remove() }
        let row = try #require(try inbox.rows("SELECT status, ack FROM messages").first)
        #expect(row.string(0) == "read" && row.int(1) == 3)
    }

    @Test func ackMatchesTheLongIdToo() async throws {
        let inbox = try await deliver([Payload.sent(key: "K"), Payload.ack("true_34612345678@c.us_K_out", 2)])
        defer { inbox.remove() }
        #expect(try inbox.rows("SELECT status FROM messages").first?.string(0) == "delivered")
    }

    @Test func ackBeforeItsMessageIsKeptAsideThenApplied() async throws {
        let inbox = try TestInbox()
        defer { inbox.remove() }
        _ = try await deliver([Payload.ack("EARLY", 2)], inbox: inbox)
        #expect(try inbox.count("messages") == 0, "an early ack creates no message")
        #expect(try inbox.count("pending_acks") == 1)
        _ = try await deliver([Payload.sent(key: "EARLY")], inbox: inbox)
        #expect(try inbox.rows("SELECT status, ack FROM messages").first?.string(0) == "delivered")
        #expect(try inbox.count("pending_acks") == 0)
    }

    @Test func acksArrivingBackwardsOrRepeatedEndAtTheHighest() async throws {
        let orders: [[Int]] = [[1, 2, 3], [3, 2, 1], [3, 1, 3, 2, 2], [2, 3, 1]]
        for order in orders {
            let bodies = [Payload.sent(key: "M")] + order.enumerated().map { Payload.ack("M", $1, timestamp: 1_729_443_650 + $0) }
            let inbox = try await deliver(bodies)
            defer { inbox.remove() }
            let row = try #require(try inbox.rows("SELECT status, ack FROM messages").first)
            #expect(row.string(0) == "read" && row.int(1) == 3, "order \(order)")
        }
    }

    @Test func errorAckCountsOnlyBeforeDelivery() async throws {
        let late = try await deliver([Payload.sent(key: "E1"), Payload.ack("E1", 2), Payload.ack("E1", -1)])
        defer { late.remove() }
        #expect(try late.rows("SELECT status FROM messages").first?.string(0) == "delivered")

        let early = try await deliver([Payload.sent(key: "E2"), Payload.ack("E2", 1), Payload.ack("E2", -1)])
        defer { early.remove() }
        #expect(try early.rows("SELECT status, ack FROM messages").first?.string(0) == "error")

        // Either order of server/error gives the same final state.
        let swapped = try await deliver([Payload.sent(key: "E3"), Payload.ack("E3", -1), Payload.ack("E3", 1)])
        defer { swapped.remove() }
        #expect(try swapped.rows("SELECT status FROM messages").first?.string(0) == "error")
    }

    @Test func groupMessageIsFiledUnderTheGroupWithItsAuthor() async throws {
        let inbox = try await deliver([
            Payload.received(key: "G1", from: "120363025@g.us", author: "34611111111@c.us", extra: #","notifyName":"Luis""#),
        ])
        defer { inbox.remove() }
        let message = try #require(try inbox.rows("SELECT contact, author FROM messages").first)
        #expect(message.string(0) == "120363025@g.us" && message.string(1) == "34611111111@c.us")
        let group = try #require(try inbox.rows("SELECT is_group, phone_number, display_name FROM contacts WHERE whatsapp_id = '120363025@g.us'").first)
        #expect(group.int(0) == 1 && group[1].isNull && group[2].isNull)
        let author = try #require(try inbox.rows("SELECT is_group, phone_number, display_name FROM contacts WHERE whatsapp_id = '34611111111@c.us'").first)
        #expect(author.int(0) == 0 && author.string(1) == "34611111111" && author.string(2) == "Luis")
    }

    @Test func statusBroadcastIsKeptButNotAChat() async throws {
        let inbox = try await deliver([
            Payload.received(key: "ST", from: "status@broadcast", author: "34622222222@c.us", extra: #","isStatus":true"#)
                .replacingOccurrences(of: #""isStatus":false,"#, with: ""),
        ])
        defer { inbox.remove() }
        #expect(try inbox.rows("SELECT is_status FROM messages").first?.int(0) == 1)
        #expect(try inbox.count("contacts", where: "whatsapp_id = 'status@broadcast'") == 0)
    }

    @Test func contactActivitySpansAllItsMessagesInAnyOrder() async throws {
        let inbox = try await deliver([
            Payload.received(key: "T2", timestamp: 2000),
            Payload.received(key: "T1", timestamp: 1000),
            Payload.received(key: "T3", timestamp: 3000),
        ])
        defer { inbox.remove() }
        let contact = try #require(try inbox.rows("SELECT first_message_at, last_message_at FROM contacts").first)
        #expect(contact.int(0) == 1000 && contact.int(1) == 3000)
    }

    @Test func sessionLifecycle() async throws {
        let qr = Payload.envelope("session.qr", data: #"{"qrCode":"data:image/png;base64,iVBORw0KGgo=","expiresAt":"2030-01-01T00:05:00.000Z","timestamp":"2030-01-01T00:00:00.000Z"}"#)
        let connected = Payload.envelope("session.connected", data: #"{"phoneNumber":"34657032985","timestamp":"2030-01-01T00:01:00.000Z"}"#)
        let inbox = try await deliver([qr])
        defer { inbox.remove() }
        var session = try #require(try inbox.rows("SELECT status, is_connected, qr_code, qr_expires_at FROM sessions").first)
        #expect(session.string(0) == "QR Code" && session.int(1) == 0)
        #expect(session.string(2) == "data:image/png;base64,iVBORw0KGgo=" && session.string(3) == "2030-01-01T00:05:00.000Z")

        _ = try await deliver([connected], inbox: inbox)
        session = try #require(try inbox.rows("SELECT status, is_connected, phone_number, qr_code FROM sessions").first)
        #expect(session.string(0) == "Connected" && session.int(1) == 1 && session.string(2) == "34657032985" && session[3].isNull)

        let disconnected = Payload.envelope("session.disconnected", data: #"{"reason":"logout","timestamp":"2030-01-01T00:02:00.000Z"}"#)
        _ = try await deliver([disconnected], inbox: inbox)
        session = try #require(try inbox.rows("SELECT status, is_connected, disconnect_reason, phone_number FROM sessions").first)
        #expect(session.string(0) == "Disconnected" && session.int(1) == 0 && session.string(2) == "logout")
        #expect(session.string(3) == "34657032985")
        let history = try inbox.rows("SELECT event FROM session_events ORDER BY id").map { $0.string(0) }
        #expect(history == ["session.qr", "session.connected", "session.disconnected"])
    }

    @Test func aLateOlderSessionEventDoesNotOverwriteANewerOne() async throws {
        let connected = Payload.envelope("session.connected", data: #"{"phoneNumber":"1","timestamp":"2030-01-01T00:01:00.000Z"}"#)
        let olderQR = Payload.envelope("session.qr", data: #"{"qrCode":"data:image/png;base64,AA==","timestamp":"2030-01-01T00:00:00.000Z"}"#)
        let inbox = try await deliver([connected, olderQR])
        defer { inbox.remove() }
        #expect(try inbox.rows("SELECT status, qr_code FROM sessions").first?.string(0) == "Connected")
        #expect(try inbox.count("session_events") == 2, "every session event is kept in the history")
    }

    @Test func unknownEventsAreStoredAsIgnoredAndChangeNothing() async throws {
        let inbox = try await deliver([Payload.envelope("conversation.created", data: #"{"id":"c1"}"#)])
        defer { inbox.remove() }
        #expect(try inbox.rows("SELECT status FROM webhook_deliveries").first?.string(0) == "ignored")
        for table in ["messages", "contacts", "sessions", "session_events"] {
            #expect(try inbox.count(table) == 0)
        }
    }

    @Test func anInvalidPayloadIsStoredAsFailedOnceWithItsErrorAndNotRetried() async throws {
        let noId = Payload.envelope("message.received", data: #"{"body":"where is my id","from":"1@c.us"}"#)
        let inbox = try await deliver([noId, Payload.received(key: "OK")])
        defer { inbox.remove() }
        let failed = try #require(try inbox.rows(
            "SELECT status, last_error, next_attempt_at FROM webhook_deliveries WHERE event = 'message.received' ORDER BY id"
        ).first)
        #expect(failed.string(0) == "failed")
        #expect(failed.string(1)?.contains("data.id") == true)
        #expect(failed[2].isNull, "retrying cannot fix an invalid payload")
        #expect(try inbox.count("messages") == 1, "a failed delivery does not poison its batch")
    }

    @Test func aMessageIdThatIsNotTheDocumentedObjectFailsInsteadOfBeingInvented() async throws {
        let stringId = Payload.envelope("message.received", data: #"{"id":"false_1@c.us_K1","body":"x","from":"1@c.us"}"#)
        let noSerialized = Payload.envelope("message.received", data: #"{"id":{"id":"K2","remote":"1@c.us"},"body":"y"}"#)
        let inbox = try await deliver([stringId, noSerialized])
        defer { inbox.remove() }
        #expect(try inbox.count("messages") == 0)
        let errors = try inbox.rows("SELECT last_error FROM webhook_deliveries WHERE status = 'failed' ORDER BY id").map { $0.string(0) ?? "" }
        #expect(errors.count == 2)
        #expect(errors.first?.contains("data.id object") == true && errors.last?.contains("_serialized") == true)
    }

    @Test func missingOptionalFieldsNeverFailADelivery() async throws {
        let minimal = Payload.envelope("message.received", data: #"{"id":{"_serialized":"false_9@c.us_Z_in","remote":"9@c.us"}}"#)
        let connected = Payload.envelope("session.connected", data: "{}")
        let inbox = try await deliver([minimal, connected])
        defer { inbox.remove() }
        #expect(try inbox.count("webhook_deliveries", where: "status = 'applied'") == 2)
        #expect(try inbox.rows("SELECT contact, body FROM messages").first?.string(0) == "9@c.us")
    }
}
