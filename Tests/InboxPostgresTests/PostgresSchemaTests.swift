import Foundation
import InboxPostgres
@testable import InboxStore
import PostgresNIO
import Testing

/// The PostgreSQL schema: the same tables and columns as SQLite's, readable times and search
/// folding computed alike, and migrations applied once however many nodes start together.
@Suite("PostgreSQL schema and migrations", .enabled(if: PostgresTestServer.available))
struct PostgresSchemaTests {
    static var postgresMigrations: [Migration] {
        get throws { try Migration.load(from: PostgresTestServer.migrationsRoot.appendingPathComponent("postgresql")) }
    }

    /// A migrated SQLite database, for comparison; removed by the caller.
    static func sqlite() throws -> (SQLiteConnection, URL) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("inboxlite-pg-compare-\(UUID().uuidString)")
        let store = StoreConfiguration(path: folder.appendingPathComponent("inbox.sqlite").path)
        let owner = try StoreOwner(store)
        try owner.migrate(try Migration.load(from: PostgresTestServer.migrationsRoot))
        owner.release()
        return (try InboxDatabase.openReader(store), folder)
    }

    /// Every table a user sees in sqlite3 is in psql with the same columns in the same order
    /// (SQLite's full-text index, an engine's own machinery, aside).
    @Test func theSameTablesAndColumnsAsSQLite() async throws {
        let (sqlite, folder) = try Self.sqlite()
        defer { try? FileManager.default.removeItem(at: folder) }
        var expected: [String: [String]] = [:]
        for table in try sqlite.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'messages_fts%' AND name NOT LIKE 'sqlite_%'") {
            let name = table.string(0) ?? ""
            expected[name] = try sqlite.query("SELECT name FROM pragma_table_xinfo(?) ORDER BY cid", name).compactMap { $0.string(0) }
        }
        let found = try await PostgresTestServer.withDatabase { _, client in
            try await PostgresMigrator(migrations: try Self.postgresMigrations).migrate(client, logger: PostgresTestServer.logger)
            var found: [String: [String]] = [:]
            for try await (table, column) in try await client.query("""
                SELECT table_name::text, column_name::text FROM information_schema.columns
                WHERE table_schema = 'public' ORDER BY table_name, ordinal_position
                """).decode((String, String).self) {
                found[table, default: []].append(column)
            }
            return found
        }
        #expect(expected.count >= 24)
        #expect(found == expected)
    }

    /// Several nodes starting at once: the migrations are applied once, and every node finishes
    /// with the whole schema (the others waited on the advisory lock).
    @Test func severalNodesMigrateOnce() async throws {
        let migrations = try Self.postgresMigrations
        let (applied, recorded) = try await PostgresTestServer.withDatabase { location, _ in
            let applied = try await withThrowingTaskGroup(of: [String].self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        try await PostgresTestServer.withClient(location) { client in
                            try await PostgresMigrator(migrations: migrations).migrate(client, logger: PostgresTestServer.logger)
                        }
                    }
                }
                return try await group.reduce(into: [String]()) { $0 += $1 }
            }
            let recorded = try await PostgresTestServer.withClient(location) { client in
                try await client.query("SELECT name FROM schema_migrations ORDER BY version").decode(String.self).reduce(into: [String]()) { $0.append($1) }
            }
            return (applied, recorded)
        }
        #expect(applied == migrations.map(\.name))
        #expect(recorded == migrations.map(\.name))
    }

    /// A shipped file that changed, or a database newer than the code, stops the node.
    @Test func aChangedMigrationOrANewerDatabaseStopsIt() async throws {
        let migrations = try Self.postgresMigrations
        try await PostgresTestServer.withDatabase { _, client in
            try await PostgresMigrator(migrations: migrations).migrate(client, logger: PostgresTestServer.logger)
            #expect(try await PostgresMigrator(migrations: migrations).migrate(client, logger: PostgresTestServer.logger).isEmpty)
            let last = try #require(migrations.last)
            let changed = Array(migrations.dropLast()) + [Migration(version: last.version, name: last.name, sql: last.sql + "\n-- edited")]
            await #expect(throws: MigrationError.changedAfterApply(version: last.version, name: last.name)) {
                try await PostgresMigrator(migrations: changed).migrate(client, logger: PostgresTestServer.logger)
            }
            await #expect(throws: MigrationError.databaseNewerThanCode(databaseVersion: last.version, codeVersion: 0)) {
                try await PostgresMigrator(migrations: []).migrate(client, logger: PostgresTestServer.logger)
            }
            // A failing file leaves nothing behind: not its tables, not its record.
            let broken = migrations + [Migration(version: last.version + 1, name: "\(last.version + 1)_broken", sql: "CREATE TABLE half (x int); SELECT nonsense;")]
            await #expect(throws: MigrationError.self) {
                try await PostgresMigrator(migrations: broken).migrate(client, logger: PostgresTestServer.logger)
            }
            let half = try await client.query("SELECT count(*)::int FROM information_schema.tables WHERE table_name = 'half'").decode(Int.self)
                .reduce(0) { $0 + $1 }
            #expect(half == 0)
        }
    }

    /// The readable time columns and the search's word folding agree with SQLite's on the same
    /// values: a user's SQL and a search give the same answers in both engines.
    @Test func readableTimesAndSearchWordsAgreeWithSQLite() async throws {
        let sqlite = try SQLiteConnection(path: ":memory:")
        let seconds: [Int64] = [0, 1, 1_729_443_600, 1_767_225_599, 4_102_444_800, 253_402_300_799]
        let texts = ["Hola, ¿cómo estás?", "ÁRBOL árbol Arbol", "e-mail: ana@example.com 3.14", "naïve café — déjà vu", "ЁЛКА ёлка", "مرحبا", "emoji 👍🏽 ok", "C'est l'été", "cafe\u{0301} decomposed", "Straße Æsir İstanbul", "ŁÓDŹ łódź"]
        let queries = ["como estas", "arbol", "mail", "example com", "3", "14", "cafe", "deja", "елка", "ёлка", "مرحبا", "ok", "ete", "est", "decomposed", "strasse", "straße", "istanbul", "lodz", "æsir"]
        var sqliteTimes: [String] = []
        for value in seconds {
            sqliteTimes.append(try sqlite.queryFirst("SELECT strftime('%Y-%m-%dT%H:%M:%SZ', ?, 'unixepoch')", value)?.string(0) ?? "")
        }
        try sqlite.execute("CREATE VIRTUAL TABLE words USING fts5 (body, tokenize = 'unicode61 remove_diacritics 2')")
        for text in texts { try sqlite.run("INSERT INTO words (body) VALUES (?)", text) }
        var sqliteHits: [String: [Int]] = [:]
        for query in queries {
            let match = query.split(separator: " ").map { "\"\($0)\"" }.joined(separator: " ")
            sqliteHits[query] = try sqlite.query("SELECT rowid FROM words WHERE words MATCH ? ORDER BY rowid", match).compactMap { $0.int(0) }
        }
        let (times, hits) = try await PostgresTestServer.withDatabase { _, client in
            try await PostgresMigrator(migrations: try Self.postgresMigrations).migrate(client, logger: PostgresTestServer.logger)
            var times: [String] = []
            for value in seconds {
                times += try await client.query("SELECT inbox_unix_time(\(value))").decode(String.self).reduce(into: []) { $0.append($1) }
            }
            var hits: [String: [Int]] = [:]
            for query in queries {
                var found: [Int] = []
                for (index, text) in texts.enumerated() {
                    let matched = try await client.query(
                        "SELECT inbox_search_words(\(text)) @@ plainto_tsquery('simple', array_to_string(tsvector_to_array(inbox_search_words(\(query))), ' '))"
                    ).decode(Bool.self).reduce(false) { $0 || $1 }
                    if matched { found.append(index + 1) }
                }
                hits[query] = found
            }
            return (times, hits)
        }
        #expect(times == sqliteTimes)
        #expect(hits == sqliteHits)
    }
}
