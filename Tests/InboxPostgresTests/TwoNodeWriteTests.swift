import Foundation
import InboxEvents
import InboxPostgres
import InboxStore
import Logging
import Testing
import WebhookReceiver

/// Two writer services (two nodes) on one PostgreSQL database, fed at the same time: what one
/// SQLite writer promises must hold across them.
@Suite("Two nodes writing to one PostgreSQL database",
       .enabled(if: PostgresTestServer.available, "needs INBOXLITE_TEST_POSTGRES_URL (scripts/test starts a cluster)"))
struct TwoNodeWriteTests {
    static func sent(_ index: Int, session: String = "two-nodes") -> String {
        let key = String(format: "OUT%06d", index)
        let chat = "3460000\(String(format: "%04d", index % 50))@c.us"
        return #"{"event":"message.sent","sessionId":"\#(session)","data":{"id":{"fromMe":true,"remote":"\#(chat)","id":"\#(key)","_serialized":"true_\#(chat)_\#(key)"},"body":"reply \#(index)","timestamp":\#(1_790_000_000 + index),"fromMe":true}}"#
    }

    static func ack(_ index: Int, _ ack: Int, session: String = "two-nodes") -> String {
        #"{"event":"message.ack","sessionId":"\#(session)","data":{"messageId":"\#(String(format: "OUT%06d", index))","ack":\#(ack),"timestamp":\#(1_790_000_100 + index)}}"#
    }

    /// Runs two writer services on the database for the duration of `body`.
    static func withTwoNodes(
        _ body: @Sendable (_ nodes: [DeliveryWriter], _ db: PostgresBlockingConnection) async throws -> Void
    ) async throws {
        try await PostgresTestServer.withMigratedDatabase { location in
            let nodes = (0..<2).map { _ in
                DeliveryWriter(host: PostgresWriterHost(location: location, logger: PostgresTestServer.logger), logger: PostgresTestServer.logger)
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for node in nodes { group.addTask { try await node.run() } }
                let db = PostgresBlockingConnection(location: location, logger: PostgresTestServer.logger)
                defer { db.close() }
                do {
                    try await body(nodes, db)
                } catch {
                    for node in nodes { node.stop() }
                    throw error
                }
                for node in nodes { node.stop() }
                try await group.waitForAll()
            }
        }
    }

    static func submit(_ json: String, to node: DeliveryWriter, receivedAt: Date = Date()) async throws -> DeliveryResult {
        try await node.submit(try #require(EngineParityTests.delivery(Array(json.utf8), provider: .inboxHub, at: receivedAt)))
    }

    @Test("the same deliveries sent to both nodes at once are stored once, each answered once as new and once as a duplicate")
    func idempotentAcrossNodes() async throws {
        try await Self.withTwoNodes { nodes, db in
            let bodies = (0..<300).map { Self.sent($0) }
            let receivedAt = Date()
            let results = try await withThrowingTaskGroup(of: (Int, DeliveryResult).self) { group in
                for (index, body) in bodies.enumerated() {
                    for node in nodes { group.addTask { (index, try await Self.submit(body, to: node, receivedAt: receivedAt)) } }
                }
                return try await group.reduce(into: [Int: [DeliveryResult]]()) { $0[$1.0, default: []].append($1.1) }
            }
            for index in bodies.indices {
                let answers = results[index] ?? []
                #expect(answers.filter { $0 == .duplicate }.count == 1, "delivery \(index): \(answers)")
                #expect(answers.filter { if case .stored(_, .applied, _) = $0 { true } else { false } }.count == 1)
            }
            #expect(try db.queryFirst("SELECT count(*) FROM webhook_deliveries")?.int(0) == 300)
            #expect(try db.queryFirst("SELECT count(*) FROM messages")?.int(0) == 300)
            #expect(try db.queryFirst("SELECT sum(message_count) FROM conversations")?.int(0) == 300)
            let counted = try db.query("SELECT status, sum(deliveries) FROM delivery_counts GROUP BY status").map { "\($0.string(0) ?? "")=\($0[1])" }
            #expect(counted == ["applied=integer(300)"])
        }
    }

    @Test("receipts sent to one node while their messages reach the other, in any order and out of order, leave every message read")
    func acksAcrossNodes() async throws {
        try await Self.withTwoNodes { nodes, db in
            let count = 200
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<count {
                    let (first, second) = index % 2 == 0 ? (nodes[0], nodes[1]) : (nodes[1], nodes[0])
                    // The read receipt, the delivered one after it, and the message, all at once.
                    group.addTask { _ = try await Self.submit(Self.ack(index, 3), to: first) }
                    group.addTask { _ = try await Self.submit(Self.ack(index, 2), to: second) }
                    group.addTask { _ = try await Self.submit(Self.sent(index), to: index % 3 == 0 ? first : second) }
                }
                try await group.waitForAll()
            }
            let statuses = try db.query("SELECT status, count(*) FROM messages GROUP BY status").map { "\($0.string(0) ?? "")=\($0.int(1) ?? 0)" }
            #expect(statuses == ["read=\(count)"])
            #expect(try db.queryFirst("SELECT count(*) FROM pending_acks")?.int(0) == 0)
            #expect(try db.queryFirst("SELECT count(*) FROM messages WHERE ack = 3")?.int(0) == count)
        }
    }

    @Test("housekeeping on two nodes at once touches each row once: failed deliveries retried once, receipts expired once")
    func housekeepingOnceAcrossNodes() async throws {
        try await PostgresTestServer.withMigratedDatabase { location in
            let count = 120
            let old = Date().addingTimeInterval(-30 * 86_400)
            // Receipts of messages that never came, received a month ago: all waiting in pending_acks.
            let setup = PostgresBlockingConnection(location: location, logger: PostgresTestServer.logger)
            defer { setup.close() }
            let writer = try InboxWriter(database: setup)
            let acks = try (0..<count).map { try #require(EngineParityTests.delivery(Array(Self.ack(10_000 + $0, 3).utf8), provider: .inboxHub, at: old)) }
            // And messages whose deliveries stand for ones that failed once and are due for a retry now.
            let messages = try (0..<count / 2).map { try #require(EngineParityTests.delivery(Array(Self.sent($0).utf8), provider: .inboxHub, at: old)) }
            _ = try writer.commit(acks + messages, now: old)
            try setup.run("UPDATE webhook_deliveries SET status = 'failed', attempts = 1, next_attempt_at = '2000-01-01T00:00:00.000Z' WHERE event = 'message.sent'")
            #expect(try setup.queryFirst("SELECT count(*) FROM pending_acks")?.int(0) == count)

            // Two nodes' writers run every housekeeping step at the same time, in small steps, until done.
            let totals = try await withThrowingTaskGroup(of: (retried: Int, expired: Int).self) { group in
                for _ in 0..<2 {
                    group.addTask {
                        let connection = PostgresBlockingConnection(location: location, logger: PostgresTestServer.logger)
                        defer { connection.close() }
                        let node = try InboxWriter(database: connection)
                        var (retried, expired) = (0, 0)
                        while true {
                            let (tried, moved) = (try node.retryDueFailures(limit: 7),
                                                  try node.expirePendingAcks(receivedBefore: Date().addingTimeInterval(-7 * 86_400), limit: 7))
                            retried += tried
                            expired += moved
                            if tried == 0, moved == 0 { return (retried, expired) }
                        }
                    }
                }
                return try await group.reduce(into: (retried: 0, expired: 0)) { $0.retried += $1.retried; $0.expired += $1.expired }
            }
            #expect(totals.retried == count / 2, "each due failure retried by one node only")
            #expect(totals.expired == count, "each receipt expired by one node only")
            #expect(try setup.query("SELECT attempts, count(*) FROM webhook_deliveries GROUP BY attempts ORDER BY attempts").map { "\($0.int(0) ?? 0)x\($0.int(1) ?? 0)" }
                    == ["1x\(count)", "2x\(count / 2)"])
            #expect(try setup.queryFirst("SELECT count(*) FROM webhook_deliveries WHERE status <> 'applied'")?.int(0) == 0)
            #expect(try setup.queryFirst("SELECT count(*) FROM expired_pending_acks")?.int(0) == count)
            #expect(try setup.queryFirst("SELECT count(*) FROM pending_acks")?.int(0) == 0)
            #expect(try setup.queryFirst("SELECT value FROM store_state WHERE name = 'expired_pending_acks'")?.int(0) == count)
        }
    }
}
