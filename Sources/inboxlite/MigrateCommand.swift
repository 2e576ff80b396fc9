import ArgumentParser
import InboxPostgres
import InboxStore

/// `inboxlite migrate`: bring the database schema up to date and exit — the SQLite file, or the
/// PostgreSQL database `--database-url` names (its migrations are `Migrations/postgresql/`; several
/// nodes migrating at once take turns under an advisory lock).
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "migrate", abstract: "Apply pending migrations and exit.")

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var postgres: PostgresOptions

    func run() async throws {
        do {
            if let location = try postgres.location() {
                let (applied, version) = try await migratePostgres(location, migrationsFrom: database, logger: try database.bootstrapLogging())
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
