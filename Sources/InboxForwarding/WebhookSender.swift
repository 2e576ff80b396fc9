import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// POSTs signed events to one target over its own connection pool.
///
/// Bounded: at most the target's concurrency in connections, each attempt within its timeout
/// (connecting included), redirects never followed, and at most `maxResponseBytes` of an answer
/// read (kept only to say why an attempt failed).
final class WebhookSender: Sendable {
    static let maxResponseBytes = 1024

    private let client: HTTPClient
    private let target: ForwardTarget
    private let signer: StandardWebhookSigner
    /// The target's timeout, as NIO counts it.
    private let timeout: TimeAmount

    init(target: ForwardTarget, eventLoopGroup: any EventLoopGroup) {
        self.target = target
        signer = StandardWebhookSigner(key: target.key)
        let timeout = TimeAmount.nanoseconds(Int64(target.timeout.components.seconds) * 1_000_000_000
                                             + target.timeout.components.attoseconds / 1_000_000_000)
        self.timeout = timeout
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: min(timeout, .seconds(5)), read: timeout),
            connectionPool: .init(idleTimeout: .seconds(55), concurrentHTTP1ConnectionsPerHostSoftLimit: target.concurrency),
            decompression: .disabled
        )
        configuration.httpVersion = .automatic
        client = HTTPClient(eventLoopGroupProvider: .shared(eventLoopGroup), configuration: configuration)
    }

    /// Sends one event; never throws (every failure is a result), and returns promptly when the
    /// task is cancelled.
    func send(id: String, body: [UInt8], now: Date = Date()) async -> AttemptResult {
        var request = HTTPClientRequest(url: target.url.absoluteString)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.headers.add(name: "user-agent", value: "InboxLite")
        for header in signer.headers(id: id, timestamp: Int64(now.timeIntervalSince1970), body: body) {
            request.headers.add(name: header.name, value: header.value)
        }
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            let response = try await client.execute(request, timeout: timeout)
            let status = Int(response.status.code)
            let excerpt = await Self.excerpt(of: response.body)
            switch status {
            case 200..<300:
                return .delivered
            case 408, 429, 500...:
                return .transient(error: Self.describe(status, excerpt), status: status,
                                  retryAfter: RetryPolicy.retryAfter(response.headers.first(name: "retry-after"), now: Date()))
            case 300..<400:
                return .refused(error: "answered \(status) (redirects are not followed: configure the final URL)", status: status)
            default:
                return .refused(error: Self.describe(status, excerpt), status: status)
            }
        } catch {
            return .transient(error: Self.describe(error), status: nil, retryAfter: nil)
        }
    }

    func shutdown() async {
        try? await client.shutdown()
    }

    /// The start of an answer's body, as readable text; the rest is not read.
    private static func excerpt(of body: HTTPClientResponse.Body) async -> String {
        var bytes: [UInt8] = []
        do {
            for try await chunk in body {
                bytes += chunk.readableBytesView.prefix(maxResponseBytes - bytes.count)
                if bytes.count >= maxResponseBytes { break }
            }
        } catch {}
        let text = String(decoding: bytes, as: UTF8.self)
            .unicodeScalars.map { $0.properties.generalCategory == .control ? " " : String($0) }.joined()
        return String(text.prefix(200)).trimmingCharacters(in: .whitespaces)
    }

    private static func describe(_ status: Int, _ excerpt: String) -> String {
        excerpt.isEmpty ? "answered \(status)" : "answered \(status): \(excerpt)"
    }

    private static func describe(_ error: any Error) -> String {
        switch error {
        case let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout:
            return "no answer within the timeout"
        case let error as HTTPClientError where error == .connectTimeout:
            return "could not connect within the timeout"
        case let error as HTTPClientError where error == .cancelled:
            return "cancelled"
        case let error as HTTPClientError:
            return "\(error)"
        case let error as IOError:
            return "connection failed: \(error.description)"
        default:
            return "\(error)"
        }
    }
}
