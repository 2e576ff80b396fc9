/// Brings a database to the schema of this build, one transaction per migration file.
public struct Migrator: Sendable {
    public let migrations: [Migration]

    public init(migrations: [Migration]) {
        self.migrations = migrations
    }

    /// Applies every migration the database lacks, in order; returns the names applied.
    ///
    /// Refuses to run when an applied file changed or the database is newer than the code, because
    /// either means the tables may not be what this build expects.
    @discardableResult
    public func migrate(_ connection: SQLiteConnection) throws(MigrationError) -> [String] {
        do {
            try connection.execute("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version    INTEGER PRIMARY KEY,
                    name       TEXT NOT NULL,
                    checksum   TEXT NOT NULL,
                    applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                )
                """)
        } catch {
            throw .failed(name: "schema_migrations", message: "\(error)")
        }
        let applied: [Int: String]
        do {
            let rows = try connection.query("SELECT version, checksum FROM schema_migrations")
            applied = Dictionary(uniqueKeysWithValues: rows.map { ($0.int(0) ?? 0, $0.string(1) ?? "") })
        } catch {
            throw .failed(name: "schema_migrations", message: "\(error)")
        }

        var appliedNow: [String] = []
        for migration in try Migration.pending(migrations, applied: applied) {
            do {
                try connection.transaction {
                    try connection.execute(migration.sql)
                    try connection.run(
                        "INSERT INTO schema_migrations (version, name, checksum) VALUES (?, ?, ?)",
                        migration.version, migration.name, migration.checksum
                    )
                }
            } catch {
                throw .failed(name: migration.name, message: "\(error)")
            }
            appliedNow.append(migration.name)
        }
        return appliedNow
    }

    /// The highest version recorded in the database, 0 for a new one.
    public static func currentVersion(_ connection: SQLiteConnection) throws -> Int {
        let exists = try connection.queryFirst(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
        )
        guard exists != nil else { return 0 }
        return try connection.queryFirst("SELECT max(version) FROM schema_migrations")?.int(0) ?? 0
    }
}
