import Foundation
@testable import InboxStore
import Testing

@Suite("Migrations")
final class MigrationTests {
    /// The temp folders this test made, removed when it ends (a suite instance lives for one test).
    private var folders: [URL] = []
    deinit { for folder in folders { try? FileManager.default.removeItem(at: folder) } }

    static let shipped = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Migrations")

    private func temporaryStore() -> StoreConfiguration {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("inboxlite-mig-\(UUID().uuidString)")
        folders.append(folder)
        return StoreConfiguration(path: folder.appendingPathComponent("nested/inbox.sqlite").path)
    }

    @Test func anEmptyDatabaseGetsEverySchemaAndACurrentOneIsLeftAlone() throws {
        let store = temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: store.path).deletingLastPathComponent().deletingLastPathComponent().path) }
        let migrations = try Migration.load(from: Self.shipped)
        let first = try InboxDatabase.migrate(store, migrations: migrations)
        #expect(first == migrations.map(\.name))
        let second = try InboxDatabase.migrate(store, migrations: migrations)
        #expect(second.isEmpty)

        let reader = try InboxDatabase.openReader(store)
        let tables = try reader.query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").compactMap { $0.string(0) }
        for table in ["contacts", "messages", "pending_acks", "schema_migrations", "session_events", "sessions", "webhook_deliveries"] {
            #expect(tables.contains(table))
        }
        #expect(try reader.queryFirst("PRAGMA journal_mode")?.string(0) == "wal")
    }

    @Test func aChangedAppliedMigrationStopsStartup() throws {
        let store = temporaryStore()
        let original = [Migration(version: 1, name: "0001_t", sql: "CREATE TABLE t (a);")]
        try InboxDatabase.migrate(store, migrations: original)
        let edited = [Migration(version: 1, name: "0001_t", sql: "CREATE TABLE t (a, b);")]
        #expect(throws: MigrationError.changedAfterApply(version: 1, name: "0001_t")) {
            try InboxDatabase.migrate(store, migrations: edited)
        }
    }

    @Test func aDatabaseNewerThanTheCodeStopsStartup() throws {
        let store = temporaryStore()
        let newer = [
            Migration(version: 1, name: "0001_t", sql: "CREATE TABLE t (a);"),
            Migration(version: 2, name: "0002_u", sql: "CREATE TABLE u (a);"),
        ]
        try InboxDatabase.migrate(store, migrations: newer)
        #expect(throws: MigrationError.databaseNewerThanCode(databaseVersion: 2, codeVersion: 1)) {
            try InboxDatabase.migrate(store, migrations: Array(newer.prefix(1)))
        }
    }

    @Test func aFailingMigrationLeavesNoTrace() throws {
        let store = temporaryStore()
        let broken = [Migration(version: 1, name: "0001_bad", sql: "CREATE TABLE ok (a); CREATE TABLE oops (")]
        #expect(throws: MigrationError.self) { try InboxDatabase.migrate(store, migrations: broken) }
        let reader = try InboxDatabase.openReader(store)
        #expect(try reader.queryFirst("SELECT count(*) FROM sqlite_master WHERE name = 'ok'")?.int(0) == 0)
        #expect(try Migrator.currentVersion(reader) == 0)
    }

    @Test func readersCannotWrite() throws {
        let store = temporaryStore()
        try InboxDatabase.migrate(store, migrations: try Migration.load(from: Self.shipped))
        let reader = try InboxDatabase.openReader(store)
        #expect(throws: SQLiteError.self) {
            try reader.run("INSERT INTO sessions (session_id, created_at, updated_at) VALUES ('x', 'now', 'now')")
        }
    }

    /// Before identities were kept, Evolution filed one person twice: a phone contact with the
    /// `@lid` in `contacts.lid`, and a contact of that `@lid`. The first writer after the upgrade
    /// merges them (messages and conversation included), once.
    @Test func contactsFiledTwiceBeforeTheUpgradeAreMergedOnce() throws {
        let store = temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: store.path).deletingLastPathComponent().deletingLastPathComponent().path) }
        let migrations = try Migration.load(from: Self.shipped)
        let owner = try StoreOwner(store)
        defer { owner.release() }
        try owner.migrate(migrations.filter { $0.version <= 6 })
        try owner.execute("""
            INSERT INTO sessions (session_id, provider, created_at, updated_at) VALUES ('evolution:a', 'evolution', 't', 't');
            INSERT INTO contacts (whatsapp_id, session_id, phone_number, display_name, created_at, updated_at, lid)
                VALUES ('59171146267@c.us', 'evolution:a', '59171146267', 'percy', 't', 't', '24666483777619@lid');
            INSERT INTO contacts (whatsapp_id, session_id, display_name, created_at, updated_at)
                VALUES ('24666483777619@lid', 'evolution:a', 'percy', 't', 't');
            INSERT INTO messages (message_id, session_id, contact, from_me, body, type, timestamp, status, data, created_at, updated_at)
                VALUES ('m1', 'evolution:a', '24666483777619@lid', 0, 'hola', 'text', 1767225600, 'received', '{}', 't', 't');
            INSERT INTO conversations (session_id, contact, last_message_id, last_activity_at, message_count, unread_count)
                VALUES ('evolution:a', '24666483777619@lid', 1, 1767225600, 1, 1);
            """)
        try owner.migrate(migrations)
        _ = try owner.makeWriter()
        let reader = try InboxDatabase.openReader(store)
        #expect(try reader.query("SELECT whatsapp_id FROM contacts").map { $0.string(0) } == ["59171146267@c.us"])
        #expect(try reader.queryFirst("SELECT contact FROM messages")?.string(0) == "59171146267@c.us")
        #expect(try reader.queryFirst("SELECT contact, message_count FROM conversations")?.string(0) == "59171146267@c.us")
        #expect(try reader.queryFirst("SELECT count(*) FROM contact_merges WHERE delivery_id IS NULL")?.int(0) == 1)
        _ = try owner.makeWriter()  // a later start merges nothing again
        #expect(try reader.queryFirst("SELECT count(*) FROM contact_merges")?.int(0) == 1)
    }

    /// 0010 recounts the delivery log per session (so a token limited to some sessions gets its
    /// own statistics), and tokens made before it keep seeing every session.
    @Test func deliveryCountsArePerSessionAfterTheUpgradeAndOldTokensSeeEverySession() throws {
        let store = temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: store.path).deletingLastPathComponent().deletingLastPathComponent().path) }
        let migrations = try Migration.load(from: Self.shipped)
        let owner = try StoreOwner(store)
        defer { owner.release() }
        try owner.migrate(migrations.filter { $0.version <= 9 })
        var inserts = ""
        for (index, (session, status, ms)) in [("'a'", "applied", 2.0), ("'a'", "applied", 4.0), ("'b'", "ignored", 1.0), ("NULL", "failed", 3.0)].enumerated() {
            inserts += """
                INSERT INTO webhook_deliveries (event, session_id, body_sha256, body, received_at, status, processing_ms, provider)
                VALUES ('message.received', \(session), '\(String(repeating: String(index), count: 64))', '{}', '2026-01-0\(index + 1)T00:00:00.000Z',
                        '\(status)', \(ms), 'inbox-hub');
                """
        }
        try owner.execute(inserts + """
            INSERT INTO api_tokens (name, token_prefix, token_sha256, role, created_at)
            VALUES ('old', 'il_000000', '\(String(repeating: "f", count: 64))', 'read', 't');
            """)
        try owner.migrate(migrations)
        let reader = try InboxDatabase.openReader(store)
        let counts = try reader.query("SELECT session_id, status, deliveries, processing_ms_total, last_delivery_id FROM delivery_counts ORDER BY session_id")
            .map { "\($0.string(0) ?? "?") \($0.string(1) ?? "?") \($0.int(2) ?? -1) \($0.double(3) ?? -1) \($0.int(4) ?? -1)" }
        #expect(counts == [" failed 1 3.0 4", "a applied 2 6.0 2", "b ignored 1 1.0 3"])
        let grants = try APITokens.grants(reader)
        #expect(grants.values.map(\.access.scope) == [.everySession])
        // The triggers keep counting per session.
        try owner.execute("""
            INSERT INTO webhook_deliveries (event, session_id, body_sha256, body, received_at, status, processing_ms, provider)
            VALUES ('message.received', 'b', '\(String(repeating: "9", count: 64))', '{}', 't', 'failed', 5, 'inbox-hub');
            UPDATE webhook_deliveries SET status = 'applied' WHERE body_sha256 = '\(String(repeating: "9", count: 64))';
            """)
        #expect(try reader.query("SELECT status, deliveries FROM delivery_counts WHERE session_id = 'b' AND deliveries > 0 ORDER BY status")
            .map { "\($0.string(0) ?? "") \($0.int(1) ?? 0)" } == ["applied 1", "ignored 1"])
    }
}
