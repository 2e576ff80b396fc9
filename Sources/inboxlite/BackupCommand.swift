import ArgumentParser
import Foundation
import InboxPostgres
import InboxStore

/// `inboxlite backup --to FILE`: a consistent copy of the database, taken while the service runs —
/// SQLite's online backup of the file, or for PostgreSQL `pg_dump` (custom format, restored with
/// `pg_restore`), run with the password in its environment, never on its command line.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup", abstract: "Write a consistent copy of the database to a new file (safe while the service runs)."
    )

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var postgres: PostgresOptions

    @Option(help: "The copy to create; must not exist yet.")
    var to: String

    func run() async throws {
        let destination = URL(fileURLWithPath: to).standardizedFileURL.path
        guard !FileManager.default.fileExists(atPath: destination) else {
            throw UsageFailure("\(destination) already exists; choose a new file")
        }
        let started = ContinuousClock.now
        let source: String
        if let location = try postgres.location() {
            try dump(location, to: destination)
            source = location.description
        } else {
            guard FileManager.default.fileExists(atPath: database.databasePath) else {
                throw UsageFailure("no database at \(database.databasePath)")
            }
            do {
                try InboxDatabase.backup(try database.store(), to: destination)
            } catch {
                throw UsageFailure("backup failed: \(error)")
            }
            source = database.databasePath
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: destination)[.size] as? Int) ?? 0
        let elapsed = ContinuousClock.now - started
        print(String(format: "backed up %@ to %@ (%.1f MB in %.1f s)", source, destination,
                     Double(size) / 1_048_576, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))
    }

    /// `pg_dump --format=custom` of the database (a consistent snapshot, taken while nodes write).
    private func dump(_ location: PostgresLocation, to destination: String) throws {
        let howTo = "pg_dump --format=custom --file=\(destination) '\(location)' (PostgreSQL's client tools: Debian's postgresql-client)"
        guard let pgDump = (environment("PATH") ?? "/usr/bin:/bin").split(separator: ":")
            .map({ "\($0)/pg_dump" }).first(where: FileManager.default.isExecutableFile(atPath:))
        else {
            throw UsageFailure("a PostgreSQL database is backed up with pg_dump, which is not installed here; install it, or run: \(howTo)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: pgDump)
        process.arguments = ["--format=custom", "--no-password", "--file=\(destination)", "--host=\(location.host)", "--port=\(location.port)",
                             "--username=\(location.username)", "--dbname=\(location.database)"]
        var environment = ProcessInfo.processInfo.environment
        environment["PGPASSWORD"] = location.password
        environment["PGSSLMODE"] = location.tlsMode.rawValue
        environment["PGSSLROOTCERT"] = location.rootCertificatePath
        process.environment = environment
        // The dump holds every message: created 0600 (0640 with --file-access group) like a
        // SQLite backup, by the umask pg_dump inherits, never readable by others for an instant.
        let previous = umask(0o777 & ~(try database.resolvedFileAccess().fileMode))
        defer { umask(previous) }
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            try? FileManager.default.removeItem(atPath: destination)
            throw UsageFailure("pg_dump failed (exit \(process.terminationStatus), its message above); the command was: \(howTo)")
        }
    }
}
