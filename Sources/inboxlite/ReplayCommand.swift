import ArgumentParser
import Foundation
import InboxStore

/// `inboxlite replay`: re-apply stored deliveries, e.g. after an upgrade that learns a new event.
///
/// SQLite has only ever one writer: when a service holds the file's lock, the replay is asked of it
/// (`POST /api/admin/replay`, with the API token) instead of opening a second writer. On
/// PostgreSQL the command is one more writer taking turns with the nodes.
struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay", abstract: "Re-apply stored deliveries with the given status."
    )

    @OptionGroup var access: WriterAccess

    @Option(help: "Which deliveries to re-apply: failed or ignored.")
    var status: String = "failed"

    func run() async throws {
        guard let status = DeliveryStatus(rawValue: status), status != .applied else {
            throw UsageFailure("--status must be failed or ignored")
        }
        let summary = try await access.run("replay", local: { writer in
            let summary = try writer.replay(status: status)
            return "replayed \(summary.total) \(status.rawValue) deliveries: \(summary.applied) applied, \(summary.ignored) ignored, \(summary.failed) failed"
        }, remote: { client in
            let (code, object) = try await client.send("POST", "/api/admin/replay?status=\(status.rawValue)", timeout: 3600)
            guard code == 200, let summary = object["data"] as? [String: Any] else {
                throw UsageFailure("the service at \(client.base) answered \(code): \(object)")
            }
            func count(_ key: String) -> Int { summary[key] as? Int ?? 0 }
            return "replayed through the running service at \(client.base): \(count("replayed")) \(status.rawValue) deliveries: \(count("applied")) applied, \(count("ignored")) ignored, \(count("failed")) failed"
        })
        print(summary)
    }
}
