import ArgumentParser
import Foundation
import WebhookReceiver

/// `inboxlite sign`: the signature the gateway would send for a body.
struct SignCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign", abstract: "Print sha256=<hex> HMAC-SHA256 of FILE (or stdin) with the secret."
    )

    @Option(help: "The webhook secret (env INBOXLITE_WEBHOOK_SECRET).")
    var secret: String?

    @Argument(help: "File to sign; standard input when omitted.")
    var file: String?

    func run() async throws {
        guard let secret = secret ?? environment("INBOXLITE_WEBHOOK_SECRET") else {
            throw UsageFailure("--secret is required (or set INBOXLITE_WEBHOOK_SECRET)")
        }
        let body: Data
        if let file {
            guard let contents = FileManager.default.contents(atPath: file) else {
                throw UsageFailure("cannot read \(file)")
            }
            body = contents
        } else {
            body = FileHandle.standardInput.readDataToEndOfFile()
        }
        print(WebhookSigner.signature(for: body, secret: secret))
    }
}
