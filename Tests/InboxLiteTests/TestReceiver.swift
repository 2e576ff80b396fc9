import Foundation
import HTTPTypes
import Hummingbird
import InboxForwarding
import NIOCore
import Synchronization

/// A CRM endpoint for the forwarding tests: a real HTTP server on a free port that records every
/// request it gets and answers as `respond` says. (`scripts/forwarding_test.py` checks signatures
/// with the independent standardwebhooks library.)
final class TestReceiver: Sendable {
    /// One request as received.
    struct Received: Sendable {
        let path: String
        let webhookId: String
        let seq: Int
        let type: String
        let session: String?
        let chat: String?
        let json: String

        var object: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any] ?? [:] }
    }

    private let requests = Mutex<[Received]>([])
    private let task: Task<Void, any Error>
    let port: Int

    /// `respond` answers each request (its status; `delay` first if set).
    static func start(respond: @escaping @Sendable (Received) -> (status: HTTPResponse.Status, headers: HTTPFields, delay: Duration?)
                        = { _ in (.ok, [:], nil) }) async throws -> TestReceiver {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let box = Mutex<TestReceiver?>(nil)
        let router = Router()
        router.post("/**") { request, context -> Response in
            let body = try await request.body.collect(upTo: 1 << 22)
            let text = String(buffer: body)
            let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
            let received = Received(
                path: request.uri.path, webhookId: request.headers[HTTPField.Name("webhook-id")!] ?? "",
                seq: object["seq"] as? Int ?? -1, type: object["type"] as? String ?? "", session: object["session_id"] as? String,
                chat: object["chat"] as? String, json: text
            )
            box.withLock { $0 }?.requests.withLock { $0.append(received) }
            let answer = respond(received)
            if let delay = answer.delay { try await Task.sleep(for: delay) }
            return Response(status: answer.status, headers: answer.headers)
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) })
        let task = Task { try await app.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw CancellationError() }
        let receiver = TestReceiver(port: port, task: task)
        box.withLock { $0 = receiver }
        return receiver
    }

    private init(port: Int, task: Task<Void, any Error>) {
        self.port = port
        self.task = task
    }

    func stop() {
        task.cancel()
    }

    var url: String { "http://127.0.0.1:\(port)/crm/hook" }

    static let secret = "whsec_" + Data((0..<32).map { UInt8($0) }).base64EncodedString()

    /// A target for this receiver, retrying after `firstRetryPause`.
    func target(name: String = "default", path: String = "/crm/hook", sessions: [String]? = nil, types: [String]? = nil,
                firstRetryPause: Duration = .milliseconds(20), timeout: Duration = .seconds(10)) throws -> ForwardTarget {
        var target = try ForwardTarget(name: name, url: "http://127.0.0.1:\(port)\(path)", secret: Self.secret, sessions: sessions,
                                       types: types, timeout: timeout)
        target.firstRetryPause = firstRetryPause
        return target
    }

    var received: [Received] { requests.withLock { $0 } }

    /// Requests answered for event `seq`, in arrival order.
    func attempts(_ seq: Int) -> [Received] { received.filter { $0.seq == seq } }

    /// Waits until `condition` holds for what was received (checked every 20 ms).
    func waitUntil(seconds: Double = 10, _ condition: ([Received]) -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if condition(received) { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return condition(received)
    }
}
