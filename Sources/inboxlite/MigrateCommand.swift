import ArgumentParser
import InboxStore

/// `inboxlite migrate`: bring the database schema up to date and exit.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "migrate", abstract: "Apply pending migrations and exit.")

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        do {
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
