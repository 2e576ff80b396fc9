import Foundation
@testable import InboxStore
import Testing

@Suite("Housekeeping keeps tables bounded")
struct HousekeepingTests {
    private func delivery(_ json: String, receivedAt: Date) throws -> IncomingDelivery {
        try StoreFixture.delivery(json, receivedAt: receivedAt)
    }

    @Test func receiptsWaitingLongerThanTheExpiryAreMovedOutAndCounted() throws {
        let fixture = try StoreFixture()
        let (owner, writer) = (fixture.owner, fixture.writer)
        let now = Date()
        let old = now.addingTimeInterval(-8 * 86_400)
        _ = try writer.commit([
            delivery(#"{"event":"message.ack","sessionId":"s","data":{"messageId":"OLD","ack":3}}"#, receivedAt: old),
            delivery(#"{"event":"message.ack","sessionId":"s","data":{"messageId":"NEW","ack":3}}"#, receivedAt: now),
        ], now: now)
        #expect(try writer.expirePendingAcks(receivedBefore: now.addingTimeInterval(-7 * 86_400), now: now) == 1)
        #expect(try writer.expirePendingAcks(receivedBefore: now.addingTimeInterval(-7 * 86_400), now: now) == 0)
        let reader = try InboxDatabase.openReader(owner.configuration)
        #expect(try reader.query("SELECT message_ref FROM pending_acks").map { $0.string(0) } == ["NEW"])
        #expect(try reader.query("SELECT message_ref FROM expired_pending_acks").map { $0.string(0) } == ["OLD"])
        #expect(try reader.queryFirst("SELECT value FROM store_state WHERE name = 'expired_pending_acks'")?.int(0) == 1)
    }

    @Test func retentionEmptiesOnlyOldAppliedBodiesInSmallPasses() throws {
        let fixture = try StoreFixture()
        let (owner, writer) = (fixture.owner, fixture.writer)
        let now = Date()
        let old = now.addingTimeInterval(-40 * 86_400)
        let message = StoreFixture.message
        _ = try writer.commit((0..<5).map { try delivery(message("O\($0)"), receivedAt: old) }
            + [try delivery(#"{"event":"message.received","sessionId":"s","data":{}}"#, receivedAt: old)]  // failed: kept
            + [try delivery(message("N1"), receivedAt: now)], now: now)
        let cutoff = now.addingTimeInterval(-30 * 86_400)
        #expect(try writer.removeOldBodies(receivedBefore: cutoff, scan: 3, now: now) == 3)
        #expect(try writer.removeOldBodies(receivedBefore: cutoff, scan: 3, now: now) == 2)
        #expect(try writer.removeOldBodies(receivedBefore: cutoff, scan: 3, now: now) == 0)
        let reader = try InboxDatabase.openReader(owner.configuration)
        #expect(try reader.query("SELECT id FROM webhook_deliveries WHERE body = '' ORDER BY id").map { $0.int(0) } == [1, 2, 3, 4, 5])
        #expect(try reader.queryFirst("SELECT count(*) FROM webhook_deliveries WHERE body <> ''")?.int(0) == 2)
        #expect(try reader.queryFirst("SELECT value FROM store_state WHERE name = 'bodies_removed_through_id'")?.int(0) == 6)
        #expect(try reader.queryFirst("SELECT count(*) FROM messages")?.int(0) == 6, "domain rows are untouched")
    }
}
