import ArgumentParser
import Hummingbird
import InboxHTTP
import InboxStore
import Synchronization
import WebhookReceiver

/// Serves the Inbox Hub and WAHA webhook routes as the service does (the same controller, verifier, parser
/// and metrics) in front of a store that keeps nothing: what HTTP, signature verification and
/// decoding cost on their own. Whatever storage sits behind `DeliveryIngest`, a delivery cannot
/// cost less than this; `scripts/bench-ingest.sh` (BENCH_CEILING=1) drives it with the same stream.
struct HTTPCeilingBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "http-ceiling", abstract: "Serve the webhook route into a store that keeps nothing, until SIGTERM."
    )

    @Option(help: "Port to listen on (127.0.0.1).") var port: Int
    @Option(help: "The Inbox Hub webhook secret, also the WAHA HMAC key.") var webhookSecret: String

    func run() async throws {
        let router = Router()
        router.get("/healthz") { _, _ in Response.json(bytes: Array(#"{"status":"ok"}"#.utf8)) }
        // The realistic stream mixes Inbox Hub and WAHA bodies, both signed with the one secret.
        let ingest = KeepNothingIngest(), metrics = InboxMetrics()
        WebhookController(
            provider: .inboxHub,
            authenticator: WebhookVerifier(secrets: WebhookSecrets(defaultSecret: webhookSecret), tolerance: 300),
            writer: ingest, maxBodyBytes: 1 << 20, metrics: metrics
        ).addRoutes(to: router)
        WebhookController(
            provider: .waha, authenticator: HMACHeaderVerifier.waha(hmacKey: webhookSecret, perSession: [:], tolerance: 300),
            writer: ingest, maxBodyBytes: 1 << 20, metrics: metrics
        ).addRoutes(to: router)
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
        try await app.runService()
    }
}

/// Answers at once: a body seen before is a duplicate, anything else "applied". Stores nothing.
private final class KeepNothingIngest: DeliveryIngest {
    private let seen = Mutex<Set<String>>([])

    func submit(_ delivery: IncomingDelivery) async throws -> DeliveryResult {
        let (isNew, count) = seen.withLock { ($0.insert(delivery.bodySHA256).inserted, $0.count) }
        return isNew ? .stored(id: Int64(count), status: .applied) : .duplicate
    }

    var backlog: Int { 0 }
    var engine: StoreEngine { .sqlite }
    var isReachable: Bool { true }
}
