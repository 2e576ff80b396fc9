import ArgumentParser
import Foundation
import InboxStore

/// `inboxlite replay`: re-apply stored deliveries, e.g. after an upgrade that learns a new event.
///
/// There is only ever one writer: when a service holds the database's lock, the replay is asked
/// of it (`POST /api/admin/replay`, with the API token) instead of opening a second writer.
struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay", abstract: "Re-apply stored deliveries with the given status."
    )

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Which deliveries to re-apply: failed or ignored.")
    var status: String = "failed"

    @Option(help: "API token of the running service (env INBOXLITE_API_TOKEN; default: the api-token file next to the database).")
    var apiToken: String?

    func run() async throws {
        guard let status = DeliveryStatus(rawValue: status), status != .applied else {
            throw UsageFailure("--status must be failed or ignored")
        }
        let store = try database.store()
        let owner: StoreOwner
        do {
            owner = try StoreOwner(store)
        } catch StoreOwnerError.held(_, let service) {
            try await replayThroughService(service, status: status)
            return
        }
        try owner.migrate(try Migration.load(from: try database.migrationsDirectory()))
        let summary = try owner.makeWriter().replay(status: status)
        print("replayed \(summary.total) \(status.rawValue) deliveries: \(summary.applied) applied, \(summary.ignored) ignored, \(summary.failed) failed")
    }

    private func replayThroughService(_ service: RunningService?, status: DeliveryStatus) async throws {
        let client = try ServiceClient(service: service, database: database, apiToken: apiToken, what: "replay")
        let (code, object) = try await client.send("POST", "/api/admin/replay?status=\(status.rawValue)", timeout: 3600)
        guard code == 200, let summary = object["data"] as? [String: Any] else {
            throw UsageFailure("the service at \(client.base) answered \(code): \(object)")
        }
        func count(_ key: String) -> Int { summary[key] as? Int ?? 0 }
        print("replayed through the running service at \(client.base): \(count("replayed")) \(status.rawValue) deliveries: \(count("applied")) applied, \(count("ignored")) ignored, \(count("failed")) failed")
    }
}
