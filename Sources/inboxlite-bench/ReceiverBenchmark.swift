import ArgumentParser
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Synchronization

/// A fast CRM endpoint for the forwarding benchmark: verifies each request's Standard Webhooks
/// signature (HMAC-SHA256 of "id.timestamp.body"), counts requests and distinct events, answers
/// 204. `GET /stats` tells what it got. Until SIGTERM.
struct ReceiverBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "receiver", abstract: "Receive forwarded events, verify and count them, until SIGTERM."
    )

    @Option(help: "Port to listen on (127.0.0.1).") var port: Int
    @Option(help: "The forwarding secret, whsec_<base64>.") var secret: String

    func run() async throws {
        guard secret.hasPrefix("whsec_"), let key = Data(base64Encoded: String(secret.dropFirst(6))) else {
            throw ValidationError("--secret must be whsec_<base64>")
        }
        let symmetric = SymmetricKey(data: key)
        struct Stats {
            var requests = 0, badSignatures = 0
            var seen = Set<String>()
            var first: Date?, last: Date?
        }
        let stats = Mutex(Stats())
        let router = Router()
        router.post("/**") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 22)
            let id = request.headers[HTTPField.Name("webhook-id")!] ?? ""
            let timestamp = request.headers[HTTPField.Name("webhook-timestamp")!] ?? ""
            let signature = request.headers[HTTPField.Name("webhook-signature")!] ?? ""
            var mac = HMAC<SHA256>(key: symmetric)
            mac.update(data: Array("\(id).\(timestamp).".utf8))
            mac.update(data: body.readableBytesView)
            let valid = signature == "v1," + Data(mac.finalize()).base64EncodedString()
            stats.withLock { stats in
                stats.requests += 1
                if !valid { stats.badSignatures += 1 }
                stats.seen.insert(id)
                stats.first = stats.first ?? Date()
                stats.last = Date()
            }
            return Response(status: valid ? .noContent : .badRequest)
        }
        router.get("/stats") { _, _ -> Response in
            let text = stats.withLock { stats in
                #"{"requests":\#(stats.requests),"events":\#(stats.seen.count),"bad_signatures":\#(stats.badSignatures),"#
                    + #""first":\#(stats.first?.timeIntervalSince1970 ?? 0),"last":\#(stats.last?.timeIntervalSince1970 ?? 0)}"#
            }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
        try await app.runService()
    }
}
