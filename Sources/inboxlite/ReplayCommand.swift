import ArgumentParser
import Foundation
import InboxStore

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

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
        guard let base = service?.url, let url = URL(string: "\(base)/api/admin/replay?status=\(status.rawValue)") else {
            throw UsageFailure("another process holds \(database.databasePath) but has not said where it listens; stop it, or retry once it has started")
        }
        let tokenFile = URL(fileURLWithPath: database.databasePath).deletingLastPathComponent().appendingPathComponent("api-token").path
        guard let token = apiToken ?? environment("INBOXLITE_API_TOKEN")
            ?? (try? String(contentsOfFile: tokenFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        else {
            throw UsageFailure("the service at \(base) holds the database; pass --api-token (or INBOXLITE_API_TOKEN) to replay through it")
        }
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.timeoutInterval = 3600
        let (data, response) = try await URLSession.shared.data(for: request)
        let code = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard code == 200,
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let summary = object["data"] as? [String: Any]
        else {
            throw UsageFailure("the service at \(base) answered \(code): \(String(decoding: data, as: UTF8.self))")
        }
        func count(_ key: String) -> Int { summary[key] as? Int ?? 0 }
        print("replayed through the running service at \(base): \(count("replayed")) \(status.rawValue) deliveries: \(count("applied")) applied, \(count("ignored")) ignored, \(count("failed")) failed")
    }
}
