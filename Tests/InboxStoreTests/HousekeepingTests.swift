import Crypto
import Foundation
@testable import InboxStore
import Testing

@Suite("Housekeeping keeps tables bounded")
struct HousekeepingTests {
    private func delivery(_ json: String, receivedAt: Date) throws -> IncomingDelivery {
        let body = Array(json.utf8)
        let envelope = try WebhookEnvelope.parse(body)
        return IncomingDelivery(body: body, bodySHA256: SHA256.hash(data: body).hexString,
                                sessionId: envelope.sessionId, receivedAt: receivedAt, envelope: envelope)
    }

    @Test func receiptsWaitingLongerThanTheExpiryAreMovedOutAndCounted() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("inboxlite-housekeeping-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let owner = try StoreOwner(StoreConfiguration(path: folder.appendingPathComponent("db.sqlite").path))
        try owner.migrate(try Migration.load(from: MigrationTests.shipped))
        let writer = try owner.makeWriter()
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
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("inboxlite-housekeeping-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let owner = try StoreOwner(StoreConfiguration(path: folder.appendingPathComponent("db.sqlite").path))
        try owner.migrate(try Migration.load(from: MigrationTests.shipped))
        let writer = try owner.makeWriter()
        let now = Date()
        let old = now.addingTimeInterval(-40 * 86_400)
        func message(_ key: String) -> String {
            #"{"event":"message.received","sessionId":"s","data":{"id":{"id":"\#(key)","remote":"1@c.us","_serialized":"false_1@c.us_\#(key)_in"},"body":"hi"}}"#
        }
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
