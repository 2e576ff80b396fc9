import InboxStore
import Logging
import PostgresNIO

/// Brings a PostgreSQL database to this build's schema (`Migrations/postgresql/`), one transaction
/// per file, recorded in `schema_migrations` exactly as SQLite records them.
///
/// Several nodes may start at once: each takes the same advisory lock first, so one applies the
/// migrations while the others wait, then find nothing left to do.
public struct PostgresMigrator: Sendable {
    public let migrations: [Migration]
    /// The advisory lock every InboxLite node takes to migrate ("inbx" in ASCII).
    public static let lockKey: Int64 = 0x696E_6278

    public init(migrations: [Migration]) {
        self.migrations = migrations
    }

    /// Applies what the database lacks, on a connection of a pool; returns the names applied.
    @discardableResult
    public func migrate(_ client: PostgresClient, logger: Logger) async throws -> [String] {
        try await client.withConnection { connection in try await migrate(connection, logger: logger) }
    }

    /// Connects once, applies what the database lacks, and closes the connection whatever happened
    /// (a starting node, a command).
    @discardableResult
    public func migrate(_ location: PostgresLocation, logger: Logger) async throws -> [String] {
        let connection = try await location.connect(logger: logger)
        do {
            let applied = try await migrate(connection, logger: logger)
            try? await connection.close()
            return applied
        } catch {
            try? await connection.close()
            throw error
        }
    }

    /// Applies what the database lacks, holding the advisory lock on `connection` meanwhile.
    @discardableResult
    public func migrate(_ connection: PostgresConnection, logger: Logger) async throws -> [String] {
        _ = try await connection.query("SELECT pg_advisory_lock(\(Self.lockKey))", logger: logger)
        do {
            let applied = try await apply(on: connection, logger: logger)
            _ = try await connection.query("SELECT pg_advisory_unlock(\(Self.lockKey))", logger: logger)
            return applied
        } catch {
            _ = try? await connection.query("SELECT pg_advisory_unlock(\(Self.lockKey))", logger: logger)
            throw error
        }
    }

    private func apply(on connection: PostgresConnection, logger: Logger) async throws -> [String] {
        do {
            _ = try await connection.query("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version    integer PRIMARY KEY,
                    name       text NOT NULL,
                    checksum   text NOT NULL,
                    applied_at text NOT NULL DEFAULT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
                )
                """, logger: logger)
        } catch {
            throw MigrationError.failed(name: "schema_migrations", message: String(reflecting: error))
        }
        var applied: [Int: String] = [:]
        for try await (version, checksum) in try await connection.query("SELECT version, checksum FROM schema_migrations", logger: logger)
            .decode((Int, String).self) {
            applied[version] = checksum
        }
        var appliedNow: [String] = []
        for migration in try Migration.pending(migrations, applied: applied) {
            do {
                // One transaction per file: its statements and its record commit together or not at all.
                _ = try await connection.query("BEGIN", logger: logger)
                for statement in SQLStatements.split(migration.sql) {
                    _ = try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                _ = try await connection.query(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES (\(migration.version), \(migration.name), \(migration.checksum))",
                    logger: logger
                )
                _ = try await connection.query("COMMIT", logger: logger)
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw MigrationError.failed(name: migration.name, message: String(reflecting: error))
            }
            appliedNow.append(migration.name)
        }
        return appliedNow
    }
}
