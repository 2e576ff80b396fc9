import InboxEvents
import Crypto
import Foundation
@testable import InboxStore

/// A migrated database in a fresh temp folder, owned by this test, with its writer and a reader.
final class StoreFixture {
    let folder: URL
    let owner: StoreOwner
    let writer: InboxWriter

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("inboxlite-store-\(UUID().uuidString)")
        owner = try StoreOwner(StoreConfiguration(path: folder.appendingPathComponent("db.sqlite").path))
        try owner.migrate(try Migration.load(from: MigrationTests.shipped))
        writer = try owner.makeWriter()
    }

    deinit {
        owner.release()
        try? FileManager.default.removeItem(at: folder)
    }

    var store: StoreConfiguration { owner.configuration }

    func reader() throws -> SQLiteConnection { try InboxDatabase.openReader(store) }

    /// The WAL file's path and its size in bytes (0 when there is none).
    var walPath: String { store.path + "-wal" }
    var walBytes: Int { (try? FileManager.default.attributesOfItem(atPath: walPath)[.size] as? Int) ?? 0 }

    /// A verified delivery of `json`, as the receiver would hand it to the writer.
    static func delivery(_ json: String, receivedAt: Date = Date()) throws -> IncomingDelivery {
        let body = Array(json.utf8)
        let envelope = try WebhookEnvelope.parse(body)
        return IncomingDelivery(body: body, bodySHA256: SHA256.hash(data: body).hexString,
                                sessionId: envelope.sessionId, receivedAt: receivedAt, envelope: envelope)
    }

    /// A `message.received` body in session "s" with key id `key`.
    static func message(_ key: String) -> String {
        #"{"event":"message.received","sessionId":"s","data":{"id":{"id":"\#(key)","remote":"1@c.us","_serialized":"false_1@c.us_\#(key)_in"},"body":"hi"}}"#
    }
}
