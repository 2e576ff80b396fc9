import InboxEvents
import Crypto
import Foundation
@testable import InboxStore
import Testing

@Suite("InboxWriter batches")
struct InboxWriterTests {
    private func delivery(_ json: String) throws -> IncomingDelivery { try StoreFixture.delivery(json) }
    private func message(_ key: String) -> String { StoreFixture.message(key) }

    @Test func theDuplicateKeyIsTheBodysSHA256InLowercaseHex() {
        #expect(IncomingDelivery.sha256Hex(of: []) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(IncomingDelivery.sha256Hex(of: Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        for size in [1, 55, 56, 64, 1000, 70_000] {
            let body = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            #expect(IncomingDelivery.sha256Hex(of: body) == SHA256.hash(data: body).hexString, "\(size) bytes")
        }
    }

    @Test func aFailingDeliveryIsRecordedAndItsBatchNeighboursStillLand() throws {
        let fixture = try StoreFixture()
        let (owner, writer) = (fixture.owner, fixture.writer)
        let store = owner.configuration

        let bad = #"{"event":"message.received","sessionId":"s","data":{"body":"no id"}}"#
        let batch = try [delivery(message("A")), delivery(bad), delivery(message("B")), delivery(message("A"))]
        let results = try writer.commit(batch)

        #expect(results.count == 4)
        guard case .stored(_, .applied, _) = results[0], case .stored(_, .failed, _) = results[1],
              case .stored(_, .applied, _) = results[2], results[3] == .duplicate
        else {
            Issue.record("unexpected results \(results)")
            return
        }
        let reader = try InboxDatabase.openReader(store)
        #expect(try reader.queryFirst("SELECT count(*) FROM messages")?.int(0) == 2)
        let failed = try #require(try reader.queryFirst("SELECT status, last_error FROM webhook_deliveries WHERE id = 2"))
        #expect(failed.string(0) == "failed" && failed.string(1)?.contains("data.id") == true)
        #expect(try reader.queryFirst("SELECT count(*) FROM webhook_deliveries")?.int(0) == 3)
    }

    @Test func anInvalidPayloadFailsOnceAndIsNotRetried() throws {
        let fixture = try StoreFixture()
        let (owner, writer) = (fixture.owner, fixture.writer)
        let start = Date()
        _ = try writer.commit([delivery(#"{"event":"message.ack","sessionId":"s","data":{"ack":3}}"#)], now: start)

        #expect(try writer.retryDueFailures(now: start.addingTimeInterval(86_400)) == 0, "retrying cannot fix it")
        let reader = try InboxDatabase.openReader(owner.configuration)
        let row = try #require(try reader.queryFirst("SELECT status, attempts, next_attempt_at, last_error FROM webhook_deliveries"))
        #expect(row.string(0) == "failed" && row.int(1) == 1 && row[2].isNull)
        #expect(row.string(3)?.contains("messageId") == true)
    }

    @Test func aDatabaseErrorIsRetriedWithBackoffUntilItApplies() throws {
        let fixture = try StoreFixture()
        let (owner, writer) = (fixture.owner, fixture.writer)
        // A broken schema (not the payload) makes the message fail to apply.
        try owner.execute("ALTER TABLE conversations RENAME TO conversations_away")
        let start = Date()
        let results = try writer.commit([delivery(message("R1"))], now: start)
        guard case .stored(_, .failed, _) = results[0] else {
            Issue.record("expected a failure, got \(results)")
            return
        }
        #expect(try writer.retryDueFailures(now: start.addingTimeInterval(1)) == 0, "not due before its backoff")
        #expect(try writer.retryDueFailures(now: start.addingTimeInterval(3)) == 1)
        let reader = try InboxDatabase.openReader(owner.configuration)
        let row = try #require(try reader.queryFirst("SELECT status, attempts, next_attempt_at FROM webhook_deliveries"))
        #expect(row.string(0) == "failed" && row.int(1) == 2)
        #expect(row.string(2).flatMap(Timestamps.parse).map { $0 > start.addingTimeInterval(6) } == true, "backoff doubles")

        try owner.execute("ALTER TABLE conversations_away RENAME TO conversations")
        #expect(try writer.retryDueFailures(now: start.addingTimeInterval(60)) == 1)
        #expect(try reader.queryFirst("SELECT status FROM webhook_deliveries")?.string(0) == "applied")
        #expect(try reader.queryFirst("SELECT count(*) FROM messages")?.int(0) == 1)
    }

    /// The writer indexes text once per transaction (no triggers): a message must be found by
    /// its current text only, whether it changed in a later transaction or in the same one, and
    /// FTS5's own integrity check must agree with the messages table.
    @Test func fullTextSearchFollowsTheCurrentTextAcrossAndWithinTransactions() throws {
        let fixture = try StoreFixture()
        let writer = fixture.writer
        func text(_ key: String, _ body: String) -> String {
            #"{"event":"message.received","sessionId":"s","data":{"id":{"id":"\#(key)","remote":"1@c.us","_serialized":"false_1@c.us_\#(key)_in"},"body":"\#(body)"}}"#
        }
        _ = try writer.commit([delivery(text("A", "alpha uno"))])
        _ = try writer.commit([delivery(text("A", "beta dos"))])  // edited in a later transaction
        _ = try writer.commit([delivery(text("B", "gamma tres")), delivery(text("B", "delta cuatro"))])  // within one
        _ = try writer.commit([delivery(text("C", "epsilon")), delivery(message("D"))])

        let reader = try fixture.reader()
        func hits(_ term: String) throws -> [String] {
            try reader.query(
                "SELECT m.message_id FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid WHERE messages_fts MATCH ? ORDER BY m.id",
                term
            ).compactMap { $0.string(0) }
        }
        #expect(try hits("alpha").isEmpty, "the old text left the index")
        #expect(try hits("beta") == ["false_1@c.us_A_in"])
        #expect(try hits("gamma").isEmpty)
        #expect(try hits("delta") == ["false_1@c.us_B_in"])
        #expect(try hits("epsilon") == ["false_1@c.us_C_in"])
        #expect(try hits("hi") == ["false_1@c.us_D_in"])
        try fixture.owner.execute("INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)")
    }
}
