import ArgumentParser
import Foundation
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

    @Option(help: "The receiver's webhook URL, e.g. http://127.0.0.1:8080/webhooks/inbox-hub.")
    var url: String

    @Option(help: "The webhook secret (env INBOXLITE_WEBHOOK_SECRET).")
    var secret: String?

    @Option(help: "Send only this event (default: every event).")
    var event: String?

    @Option(help: "Session id to send as.")
    var session: String = "inboxlite_test"

    func run() async throws {
        guard let secret = secret ?? environment("INBOXLITE_WEBHOOK_SECRET") else {
            throw UsageFailure("--secret is required (or set INBOXLITE_WEBHOOK_SECRET)")
        }
        guard let target = URL(string: url), target.scheme == "http" || target.scheme == "https" else {
            throw UsageFailure("--url must be an http(s) URL")
        }
        let events = event.map { [$0] } ?? SampleWebhooks.events
        let key = String(UInt64.random(in: 0...UInt64.max), radix: 16, uppercase: true)
        var failures = 0
        for name in events {
            let now = Date()
            let body = SampleWebhooks.body(event: name, session: session, key: key, now: now)
            var request = URLRequest(url: target)
            request.httpMethod = "POST"
            for (field, value) in SampleWebhooks.headers(body: body, event: name, session: session, secret: secret, now: now) {
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
