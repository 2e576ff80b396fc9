import Foundation
@testable import InboxStore
import Testing

@Suite("Migrations")
struct MigrationTests {
    static let shipped = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Migrations")

    private func temporaryStore() -> StoreConfiguration {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("inboxlite-mig-\(UUID().uuidString)")
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
}
