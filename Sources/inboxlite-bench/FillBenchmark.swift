import ArgumentParser
import Foundation
import InboxPostgres
import InboxStore
import Logging

/// Fills a database through the store's own write path (parse, group commit, application rules):
/// the same rows the receiver would produce, without HTTP.
struct FillBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "fill", abstract: "Fill a database with synthetic traffic.")

    @Option(help: "Database file to create or extend.") var db: String?
    @Option(help: "A PostgreSQL database to fill instead (postgres://USER:PASSWORD@HOST:PORT/DB).") var databaseURL: String?
    @Option(help: "Deliveries to write (about 90% are messages).") var deliveries = 1_100_000
    @Option(help: "Conversations: contacts are spread over 4 sessions.") var conversations = 20_000
    @Option(help: "Deliveries per transaction.") var batch = 500
    @Option(help: "Migrations folder.") var migrations = "Migrations"

    func run() async throws {
        if let databaseURL {
            try await fillPostgres(try PostgresLocation(url: databaseURL))
            return
        }
        guard let db else { throw ValidationError("give --db FILE or --database-url URL") }
        let store = StoreConfiguration(path: db)
        let owner = try StoreOwner(store)
        try owner.migrate(try Migration.load(from: URL(fileURLWithPath: migrations)))
        let writer = try owner.makeWriter()
        let checkpointer = owner.makeCheckpointer()
        try checkpointer?.start()
        defer { checkpointer?.stop() }
        try fill(writer, reader: try InboxDatabase.openReader(store)) {
            if checkpointer?.takeRewindRequest() == true { try writer.checkpoint() }
        }
    }

    private func fillPostgres(_ location: PostgresLocation) async throws {
        let logger = Logger(label: "fill")
        try await PostgresMigrator(migrations: try Migration.load(from: URL(fileURLWithPath: migrations).appendingPathComponent("postgresql")))
            .migrate(location, logger: logger)
        let writing = PostgresBlockingConnection(location: location, logger: logger)
        let reading = PostgresBlockingConnection(location: location, role: .reader(timeLimit: 60), logger: logger)
        defer { writing.close(); reading.close() }
        try fill(try InboxWriter(database: writing), reader: reading) {}
    }

    /// Commits the synthetic stream in batches; `betweenBatches` runs after each commit.
    private func fill(_ writer: InboxWriter, reader: any SQLDatabase, betweenBatches: () throws -> Void) throws {
        var generator = SyntheticDeliveries.Generator(sessions: 4, contactsPerSession: conversations / 4, seed: 7)
        // Extending a filled database: message keys continue after the deliveries already there
        // (they are numbered by the generator's index), so the new ones are new messages.
        generator.index = try reader.queryFirst("SELECT count(*) FROM webhook_deliveries")?.int(0) ?? 0
        let started = ContinuousClock.now
        var written = 0
        while written < deliveries {
            let chunk = generator.next(min(batch, deliveries - written))
            _ = try writer.commit(chunk)
            try betweenBatches()
            written += chunk.count
            if written % 100_000 < batch {
                print(String(format: "  %d deliveries, %.0f s", written, (ContinuousClock.now - started).seconds))
            }
        }
        let seconds = (ContinuousClock.now - started).seconds
        let messages = try reader.queryFirst("SELECT count(*) FROM messages")?.int(0) ?? 0
        let chats = try reader.queryFirst("SELECT count(*) FROM conversations")?.int(0) ?? 0
        print(String(format: "fill: %d deliveries in %.1f s (%.0f/s, parsing included): %d messages, %d conversations",
                     written, seconds, Double(written) / seconds, messages, chats))
    }
}
