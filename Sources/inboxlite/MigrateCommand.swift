import ArgumentParser
import InboxPostgres
import InboxStore

/// `inboxlite migrate`: bring the database schema up to date and exit — the SQLite file, or the
/// PostgreSQL database `--database-url` names (its migrations are `Migrations/postgresql/`; several
/// nodes migrating at once take turns under an advisory lock).
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "migrate", abstract: "Apply pending migrations and exit.")

    @OptionGroup var access: WriterAccess
    private var database: DatabaseOptions { access.database }

    func run() async throws {
        do {
            if let location = try access.postgres.location() {
                let applied = try await access.migrate(location, logger: try database.bootstrapLogging())
                let version = try Migration.load(from: try database.migrationsDirectory().appendingPathComponent("postgresql")).last?.version ?? 0
                print(applied.isEmpty ? "\(location) is up to date (schema version \(version))" : "applied \(applied.joined(separator: ", ")) to \(location)")
                return
            }
            let migrations = try Migration.load(from: try database.migrationsDirectory())
            let applied = try StoreOwner(try database.store()).migrate(migrations)
            print(applied.isEmpty
                ? "\(database.databasePath) is up to date (schema version \(migrations.last?.version ?? 0))"
                : "applied \(applied.joined(separator: ", ")) to \(database.databasePath)")
        } catch let error as MigrationError {
            throw UsageFailure("\(error)")
        }
    }
}
