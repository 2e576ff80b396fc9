import ArgumentParser
import Foundation
import InboxStore

/// `inboxlite backup --to FILE`: a consistent copy of the database, taken while the service runs.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup", abstract: "Write a consistent copy of the database to a new file (safe while the service runs)."
    )

    @OptionGroup var database: DatabaseOptions

    @Option(help: "The copy to create; must not exist yet.")
    var to: String

    func run() async throws {
        try database.requireSQLite()
        guard FileManager.default.fileExists(atPath: database.databasePath) else {
            throw UsageFailure("no database at \(database.databasePath)")
        }
        let destination = URL(fileURLWithPath: to).standardizedFileURL.path
        guard !FileManager.default.fileExists(atPath: destination) else {
            throw UsageFailure("\(destination) already exists; choose a new file")
        }
        let started = ContinuousClock.now
        do {
            try InboxDatabase.backup(try database.store(), to: destination)
        } catch {
            throw UsageFailure("backup failed: \(error)")
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: destination)[.size] as? Int) ?? 0
        let elapsed = ContinuousClock.now - started
        print(String(format: "backed up %@ to %@ (%.1f MB in %.1f s)", database.databasePath, destination,
                     Double(size) / 1_048_576, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))
    }
}
