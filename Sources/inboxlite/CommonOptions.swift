import ArgumentParser
import InboxPostgres
import Foundation
import InboxLite
import InboxStore
import Logging

/// Reads an environment variable, treating empty as unset.
func environment(_ name: String) -> String? {
    guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
    return value
}

/// A one-line error for the user, exit code 2.
struct UsageFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Options every command that opens the database shares. Flags override `INBOXLITE_*` variables.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .customLong("db"), help: "SQLite database file (env INBOXLITE_DB; default ./data/inboxlite.sqlite).")
    var database: String?

    @Option(help: "Folder of numbered .sql migrations (env INBOXLITE_MIGRATIONS; default: found next to the binary).")
    var migrations: String?

    @Option(help: "normal (survives a crash) or full (also survives power loss) (env INBOXLITE_DURABILITY).")
    var durability: String?

    @Option(help: "trace, debug, info, notice, warning, error or critical (env INBOXLITE_LOG_LEVEL).")
    var logLevel: String?

    @Option(help: "Who may read the database files: owner (folder 0700, files 0600) or group (0750, 0640) (env INBOXLITE_FILE_ACCESS).")
    var fileAccess: String?

    var databasePath: String {
        let path = database ?? environment("INBOXLITE_DB") ?? "./data/inboxlite.sqlite"
        return URL(fileURLWithPath: path).standardizedFileURL.path
    }

    func resolvedDurability() throws -> Durability {
        let text = durability ?? environment("INBOXLITE_DURABILITY") ?? "normal"
        guard let value = Durability(rawValue: text) else {
            throw UsageFailure("--durability must be normal or full, not \"\(text)\"")
        }
        return value
    }

    func resolvedLogLevel() throws -> Logger.Level {
        let text = logLevel ?? environment("INBOXLITE_LOG_LEVEL") ?? "info"
        guard let level = Logger.Level(rawValue: text) else {
            throw UsageFailure("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
        return level
    }

    func migrationsDirectory() throws -> URL {
        guard let url = MigrationsLocator.find(explicit: migrations ?? environment("INBOXLITE_MIGRATIONS")) else {
            throw UsageFailure("cannot find the Migrations folder; pass --migrations or set INBOXLITE_MIGRATIONS")
        }
        return url
    }

    func resolvedFileAccess() throws -> FileAccess {
        let text = fileAccess ?? environment("INBOXLITE_FILE_ACCESS") ?? "owner"
        guard let value = FileAccess(rawValue: text) else {
            throw UsageFailure("--file-access must be owner or group, not \"\(text)\"")
        }
        return value
    }

    /// The SQLite file's settings. Every command that opens the database also takes
    /// `PostgresOptions` and asks it first, so a user who chose PostgreSQL (`INBOXLITE_DATABASE_URL`)
    /// is never served from a SQLite file by surprise.
    func store() throws -> StoreConfiguration {
        return StoreConfiguration(path: databasePath, durability: try resolvedDurability(), fileAccess: try resolvedFileAccess())
    }

    func bootstrapLogging() throws -> Logger {
        let level = try resolvedLogLevel()
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        var logger = Logger(label: "inboxlite")
        logger.logLevel = level
        return logger
    }
}

/// Where a PostgreSQL database is: `--database-url` (env `INBOXLITE_DATABASE_URL`), its password
/// from the URL or a file (`--database-password-file`, env `INBOXLITE_DATABASE_PASSWORD_FILE`).
struct PostgresOptions: ParsableArguments {
    static let urlVariable = "INBOXLITE_DATABASE_URL"

    @Option(help: "PostgreSQL instead of SQLite: postgres://USER:PASSWORD@HOST:PORT/DATABASE[?sslmode=disable|prefer|require|verify-ca|verify-full] (env INBOXLITE_DATABASE_URL).")
    var databaseURL: String?

    @Option(help: "A file holding the PostgreSQL password, when the URL has none (env INBOXLITE_DATABASE_PASSWORD_FILE).")
    var databasePasswordFile: String?

    /// The database, or nil for SQLite.
    func location() throws -> PostgresLocation? {
        guard let url = databaseURL ?? environment(Self.urlVariable) else { return nil }
        do {
            return try PostgresLocation(url: url, passwordFile: databasePasswordFile ?? environment("INBOXLITE_DATABASE_PASSWORD_FILE"))
        } catch {
            throw UsageFailure("--database-url: \(error.description)")
        }
    }
}
