import ArgumentParser
import Foundation
import InboxStore

/// Fills a database through the store's own write path (parse, group commit, application rules):
/// the same rows the receiver would produce, without HTTP.
struct FillBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "fill", abstract: "Fill a database with synthetic traffic.")

    @Option(help: "Database file to create or extend.") var db: String
    @Option(help: "Deliveries to write (about 90% are messages).") var deliveries = 1_100_000
    @Option(help: "Conversations: contacts are spread over 4 sessions.") var conversations = 20_000
    @Option(help: "Deliveries per transaction.") var batch = 500
    @Option(help: "Migrations folder.") var migrations = "Migrations"

    func run() async throws {
        let store = StoreConfiguration(path: db)
        let owner = try StoreOwner(store)
        try owner.migrate(try Migration.load(from: URL(fileURLWithPath: migrations)))
        let writer = try owner.makeWriter()
        let checkpointer = owner.makeCheckpointer()
        try checkpointer?.start()
        defer { checkpointer?.stop() }
        var generator = SyntheticDeliveries.Generator(sessions: 4, contactsPerSession: conversations / 4, seed: 7)
        // Extending a filled database: message keys continue after the deliveries already there
        // (they are numbered by the generator's index), so the new ones are new messages.
        generator.index = try InboxDatabase.openReader(store).queryFirst("SELECT count(*) FROM webhook_deliveries")?.int(0) ?? 0
        let started = ContinuousClock.now
        var written = 0
        while written < deliveries {
            let chunk = generator.next(min(batch, deliveries - written))
            _ = try writer.commit(chunk)
            if checkpointer?.takeRewindRequest() == true { try writer.checkpoint() }
            written += chunk.count
            if written % 100_000 < batch {
                print(String(format: "  %d deliveries, %.0f s", written, (ContinuousClock.now - started).seconds))
            }
        }
        let seconds = (ContinuousClock.now - started).seconds
        let reader = try InboxDatabase.openReader(store)
        let messages = try reader.queryFirst("SELECT count(*) FROM messages")?.int(0) ?? 0
        let chats = try reader.queryFirst("SELECT count(*) FROM conversations")?.int(0) ?? 0
        print(String(format: "fill: %d deliveries in %.1f s (%.0f/s, parsing included): %d messages, %d conversations",
                     written, seconds, Double(written) / seconds, messages, chats))
    }
}
