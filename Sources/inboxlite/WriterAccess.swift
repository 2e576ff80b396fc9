import ArgumentParser
import Foundation
import InboxPostgres
import InboxStore
import Logging

/// How a command that writes reaches the database, whichever engine: SQLite has one writer, so
/// while a service holds the file the command asks that service (its admin API); a free file is
/// opened here. PostgreSQL's nodes take turns through the database's lock, so the command is one
/// more writer there, never needing a service.
struct WriterAccess: ParsableArguments {
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var postgres: PostgresOptions

    @Option(help: "Admin token of the running service that holds the SQLite file (env INBOXLITE_API_TOKEN; default: the api-token file next to the database).")
    var apiToken: String?

    /// Runs `local` on a writer of this process, or `remote` through the service holding the
    /// SQLite file (`what` names the work in the error when no token is at hand).
    func run<T>(_ what: String, local: (InboxWriter) throws -> T, remote: (ServiceClient) async throws -> T) async throws -> T {
        if let location = try postgres.location() {
            let logger = Logger(label: "inboxlite")
            try await migratePostgres(location, migrationsFrom: database, logger: logger)
            let connection = PostgresBlockingConnection(location: location, logger: logger)
            defer { connection.close() }
            do {
                return try local(try InboxWriter(database: connection))
            } catch let error as PostgresLocation.Unreachable {
                throw UsageFailure(error.description)
            }
        }
        let owner: StoreOwner
        do {
            owner = try StoreOwner(try database.store())
        } catch StoreOwnerError.held(_, let service) {
            return try await remote(try ServiceClient(service: service, database: database, apiToken: apiToken, what: what))
        }
        defer { owner.release() }
        try owner.migrate(try Migration.load(from: try database.migrationsDirectory()))
        return try local(try owner.makeWriter())
    }
}

/// Brings a PostgreSQL schema up to date (under the migrator's lock, as a starting node does): the
/// migrations applied, and the schema version now.
@discardableResult
func migratePostgres(_ location: PostgresLocation, migrationsFrom database: DatabaseOptions, logger: Logger) async throws
    -> (applied: [String], version: Int) {
    let migrations = try Migration.load(from: try database.migrationsDirectory().appendingPathComponent("postgresql"))
    do {
        return (try await PostgresMigrator(migrations: migrations).migrate(location, logger: logger), migrations.last?.version ?? 0)
    } catch let error as PostgresLocation.Unreachable {
        throw UsageFailure(error.description)
    }
}
