import ArgumentParser
import InboxStore

/// `inboxlite replay`: re-apply stored deliveries, e.g. after an upgrade that learns a new event.
struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay", abstract: "Re-apply stored deliveries with the given status."
    )

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Which deliveries to re-apply: failed or ignored.")
    var status: String = "failed"

    func run() async throws {
        guard let status = DeliveryStatus(rawValue: status), status != .applied else {
            throw UsageFailure("--status must be failed or ignored")
        }
        let migrations = try Migration.load(from: try database.migrationsDirectory())
        try InboxDatabase.migrate(try database.store(), migrations: migrations)
        let writer = try InboxWriter(try database.store())
        let summary = try writer.replay(status: status)
        print("replayed \(summary.total) \(status.rawValue) deliveries: \(summary.applied) applied, \(summary.ignored) ignored, \(summary.failed) failed")
    }
}
