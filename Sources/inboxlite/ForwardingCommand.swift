import ArgumentParser
import Foundation
import InboxStore

/// `inboxlite forwarding retry`: dead letters back into the retry queue, through the running
/// service (SQLite) or as one more writer (PostgreSQL); the forwarder sends them within a second.
struct ForwardingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forwarding", abstract: "Forwarding to the CRM: re-send dead letters.",
        subcommands: [Retry.self]
    )

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "retry", abstract: "Re-send dead letters: all, one target's (--target), one event's (--seq), or both."
        )

        @OptionGroup var access: WriterAccess

        @Option(help: "Only this target's dead letters.")
        var target: String?

        @Option(help: "Only this event (its seq).")
        var seq: Int64?

        func run() async throws {
            if let seq, seq <= 0 { throw UsageFailure("--seq must be a positive whole number") }
            let resent = try await access.run("re-send dead letters", local: { writer in
                try writer.resendDeadForwarding(target: target, seq: seq)
            }, remote: { client in
                var query: [String] = []
                if let target { query.append("target=\(target.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? target)") }
                if let seq { query.append("seq=\(seq)") }
                let path = "/api/admin/forwarding/retry" + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
                let (code, object) = try await client.send("POST", path)
                guard code == 200, let resent = (object["data"] as? [String: Any])?["resent"] as? Int else {
                    throw UsageFailure("the service at \(client.base) answered \(code): \(object["message"] ?? object)")
                }
                return resent
            })
            print("\(resent) dead letter\(resent == 1 ? "" : "s") will be sent again")
        }
    }
}
