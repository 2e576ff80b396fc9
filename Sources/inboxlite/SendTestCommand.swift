import InboxEvents
import ArgumentParser
import Foundation
import InboxStore
import WebhookReceiver

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `inboxlite send-test`: post correctly signed sample webhooks and print the answers, to check a
/// setup end to end (the guide's "send a test webhook").
struct SendTestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send-test", abstract: "Post signed sample webhooks to URL and print the answers."
    )

    @Option(help: "The receiver's base URL (http://127.0.0.1:8080) or a full webhook URL.")
    var url: String

    @Option(help: "The gateway to imitate: inbox-hub (default), meta, waha or evolution.")
    var provider: String = "inbox-hub"

    @Option(help: "The gateway's secret: webhook secret, Meta app secret, WAHA HMAC key or Evolution token (env INBOXLITE_WEBHOOK_SECRET).")
    var secret: String?

    @Option(help: "Send only this event (default: every mapped event).")
    var event: String?

    @Option(help: "Session to send as (Inbox Hub sessionId, WAHA session, Evolution instance, Meta phone_number_id).")
    var session: String = "inboxlite_test"

    func run() async throws {
        guard let provider = Provider(rawValue: provider) else {
            throw UsageFailure("--provider must be inbox-hub, meta, waha or evolution")
        }
        guard let secret = secret ?? environment("INBOXLITE_WEBHOOK_SECRET") else {
            throw UsageFailure("--secret is required (or set INBOXLITE_WEBHOOK_SECRET)")
        }
        guard let base = URL(string: url), base.scheme == "http" || base.scheme == "https" else {
            throw UsageFailure("--url must be an http(s) URL")
        }
        let events = event.map { [$0] } ?? GatewaySamples.events(provider)
        let key = String(UInt64.random(in: 0...UInt64.max), radix: 16, uppercase: true)
        var failures = 0
        for name in events {
            let now = Date()
            let body = GatewaySamples.body(provider, event: name, session: session, key: key, now: now)
            // A bare base URL gets the gateway's path; a full webhook URL is used as given.
            let target = base.path.isEmpty || base.path == "/"
                ? URL(string: GatewaySamples.path(provider, event: name), relativeTo: base)!.absoluteURL : base
            var request = URLRequest(url: target)
            request.httpMethod = "POST"
            for (field, value) in GatewaySamples.headers(provider, body: body, event: name, session: session, secret: secret, now: now) {
                request.setValue(value, forHTTPHeaderField: field)
            }
            request.httpBody = Data(body)
            do {
                let (data, response) = try await URLSession.shared.data(for: request)
                let status = (response as? HTTPURLResponse)?.statusCode ?? 0
                if status != 200 { failures += 1 }
                print("\(name): \(status) \(String(decoding: data, as: UTF8.self))")
            } catch {
                failures += 1
                print("\(name): no answer (\(error.localizedDescription))")
            }
        }
        if failures > 0 { throw ExitCode(1) }
    }
}
