import ArgumentParser
import Foundation
import WebhookReceiver

/// `inboxlite sign`: the signature the gateway would send for a body.
struct SignCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Print the HMAC of FILE (or stdin): sha256=<hex> (Inbox Hub, Meta) or <hex> SHA-512 (WAHA)."
    )

    @Option(help: "The webhook secret (env INBOXLITE_WEBHOOK_SECRET).")
    var secret: String?

    @Option(help: "sha256 (Inbox Hub X-Webhook-Signature, Meta X-Hub-Signature-256) or sha512 (WAHA X-Webhook-Hmac).")
    var algorithm: String = "sha256"

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
        switch algorithm {
        case "sha256": print(WebhookSigner.signature(for: body, secret: secret))
        case "sha512": print(WebhookSigner.sha512Hex(for: body, secret: secret))
        default: throw UsageFailure("--algorithm must be sha256 or sha512")
        }
    }
}
