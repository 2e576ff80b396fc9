import Foundation
import HummingbirdTesting
@testable import InboxStore
import Testing

@Suite("Deliveries: exactly once, committed before the answer")
struct DeliveryDurabilityTests {
    @Test func anIdenticalBodyIsADuplicateAndChangesNothing() async throws {
        let inbox = try TestInbox()
        defer { inbox.remove() }
        let webhook = SignedWebhook(json: Payload.sent(key: "D1"))
        try await inbox.run { client async throws in
            let (first, firstJSON) = try await client.post(webhook)
            #expect(first == .ok && firstJSON["duplicate"] == nil && firstJSON["received"] as? Bool == true)
            let (second, secondJSON) = try await client.post(webhook)
            #expect(second == .ok)
            #expect(secondJSON["duplicate"] as? Bool == true && secondJSON["success"] as? Bool == true)
        }
        #expect(try inbox.count("webhook_deliveries") == 1)
        #expect(try inbox.count("messages") == 1)
    }

    @Test func deliveriesSurviveARestartAndDuplicatesAreStillRecognised() async throws {
        let inbox = try TestInbox()
        defer { inbox.remove() }
        let webhook = SignedWebhook(json: Payload.received(key: "R1"))
        try await inbox.run { client async throws in
            let (status, _) = try await client.post(webhook)
            #expect(status == .ok)
        }
        // A second process start on the same database: migrations are a no-op, state is intact.
        let again = inbox
        try await again.run { client in
            let (_, json) = try await client.post(webhook)
            #expect(json["duplicate"] as? Bool == true)
            let (status, _) = try await client.post(SignedWebhook(json: Payload.received(key: "R2")))
            #expect(status == .ok)
        }
        #expect(try again.count("messages") == 2)
        #expect(try again.count("schema_migrations") == TestInbox.migrationCount)
    }

    @Test func concurrentPostsEndInExactlyTheExpectedRows() async throws {
        let inbox = try TestInbox()
        defer { inbox.remove() }
        let messages = 150
        let sent = (0..<messages).map { SignedWebhook(json: Payload.sent(key: "C\($0)", to: "34600000\($0 % 10)@c.us")) }
        let acks = (0..<messages).map { SignedWebhook(json: Payload.ack("C\($0)", 3)) }
        // Every fifth message is also delivered twice (gateway retries racing the original).
        let retries = stride(from: 0, to: messages, by: 5).map { sent[$0] }
        let bodies = sent + acks + retries
        let shuffled = bodies.shuffled()
        // Each on a connection of its own, 32 at a time, as a gateway's workers send them (one
        // connection would serialise them: each waits for its own commit).
        let statuses = try await inbox.live { port, _ in
            var all: [(Int, Bool)] = []
            for start in stride(from: 0, to: shuffled.count, by: 32) {
                let round = shuffled[start..<min(start + 32, shuffled.count)]
                try await withThrowingTaskGroup(of: (Int, Bool).self) { group in
                    for webhook in round {
                        group.addTask {
                            let (status, body) = try await RawHTTPConnection.request(
                                port: port, webhook.rawRequest(path: "/webhooks/inbox-hub"), timeout: 20
                            )
                            return (status, body.contains(#""duplicate":true"#))
                        }
                    }
                    for try await result in group { all.append(result) }
                }
            }
            return all
        }
        #expect(statuses.allSatisfy { $0.0 == 200 })
        #expect(statuses.filter(\.1).count == messages / 5)
        #expect(try inbox.count("webhook_deliveries") == messages * 2)
        #expect(try inbox.count("messages") == messages)
        #expect(try inbox.count("messages", where: "status = 'read' AND ack = 3") == messages)
        #expect(try inbox.count("pending_acks") == 0)
        #expect(try inbox.count("contacts") == 10)
    }

    /// (SQLite's write lock held by another process; PostgreSQL's outage has its own test.)
    @Test(.enabled(if: TestInbox.onSQLite)) func aLockedDatabaseAnswers503AndStoresNothingThenRecovers() async throws {
        var inbox = try TestInbox()
        inbox.configuration.busyTimeoutMilliseconds = 50
        defer { inbox.remove() }
        let store = inbox.configuration.store
        let webhook = SignedWebhook(json: Payload.received(key: "B1"))
        try await inbox.run { client async throws in
            let blocker = UncheckedConnection(try InboxDatabase.openWriter(store))
            try blocker.connection.execute("BEGIN IMMEDIATE")
            let (status, json) = try await client.post(webhook)
            #expect(status == .serviceUnavailable)
            #expect(json["error"] as? String == "store_unavailable")
            try blocker.connection.execute("ROLLBACK")
            // The gateway's retry of the same body now lands, once.
            #expect(try await client.post(webhook).0 == .ok)
        }
        #expect(try inbox.count("webhook_deliveries") == 1)
        #expect(try inbox.count("messages") == 1)
    }

    @Test func replayReappliesStoredDeliveries() async throws {
        let inbox = try TestInbox()
        defer { inbox.remove() }
        try await inbox.run { client async throws in
            let (status, _) = try await client.post(SignedWebhook(json: Payload.received(key: "P1")))
            #expect(status == .ok)
        }
        // Simulate a delivery an older build could not apply: stored, marked failed, domain rows absent.
        try inbox.execute("""
            DELETE FROM inbox_events; DELETE FROM conversations; DELETE FROM message_acks; DELETE FROM messages; UPDATE webhook_deliveries SET status = 'failed', last_error = 'old build', applied_at = NULL;
            """)
        let summary = try inbox.withWriter { try $0.replay(status: .failed) }
        #expect(summary.applied == 1 && summary.total == 1)
        #expect(try inbox.count("messages") == 1)
        let delivery = try #require(try inbox.rows("SELECT status, attempts, last_error FROM webhook_deliveries").first)
        #expect(delivery.string(0) == "applied" && delivery.int(1) == 2 && delivery[2].isNull)
    }

    @Test func healthzAnswersWithoutAuthentication() async throws {
        let inbox = try TestInbox()
        defer { inbox.remove() }
        try await inbox.run { client async throws in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == #"{"database":"ok","engine":"\#(TestInbox.engine.rawValue)","status":"ok"}"#)
            }
            try await client.execute(uri: "/no/such/route", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(String(buffer: response.body).contains(#""success":false"#))
            }
        }
    }
}

/// Lets a test hold a connection across an async boundary; it is used by one task at a time.
struct UncheckedConnection: @unchecked Sendable {
    let connection: SQLiteConnection
    init(_ connection: SQLiteConnection) { self.connection = connection }
}
