import InboxEvents
import Foundation
import Hummingbird
import InboxHTTP
import InboxStore

/// The guide's integration checks: `GET /api/webhooks/test/connectivity` (open) and
/// `POST /api/webhooks/test/signature`, which says whether a webhook would be accepted and why
/// not, and stores nothing.
public struct WebhookTestController<Context: RequestContext>: Sendable {
    public static var connectivityPath: String { "/api/webhooks/test/connectivity" }

    let verifier: WebhookVerifier
    let maxBodyBytes: Int

    public init(verifier: WebhookVerifier, maxBodyBytes: Int) {
        self.verifier = verifier
        self.maxBodyBytes = maxBodyBytes
    }

    /// `open` takes the connectivity check (no token); `protected` the signature check.
    public func addRoutes(open: some RouterMethods<Context>, protected router: some RouterMethods<Context>) {
        open.get(RouterPath(stringLiteral: Self.connectivityPath)) { _, _ in
            let body: [String: Any] = [
                "success": true, "message": "InboxLite is reachable", "timestamp": Timestamps.iso(Date()),
            ]
            return Response.json(bytes: Array(try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])))
        }
        router.post("/api/webhooks/test/signature") { request, _ in
            try await checkSignature(request)
        }
    }

    struct Verdict: Encodable, Sendable {
        let success = true
        let data: Body
        struct Body: Encodable, Sendable {
            let valid: Bool
            let error: String?
            let message: String
            let event: String?
            let sessionId: String?

            enum CodingKeys: String, CodingKey {
                case valid, error, message, event
                case sessionId = "session_id"
            }

            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(valid, forKey: .valid)
                try container.encode(error, forKey: .error)
                try container.encode(message, forKey: .message)
                try container.encode(event, forKey: .event)
                try container.encode(sessionId, forKey: .sessionId)
            }
        }
    }

    func checkSignature(_ request: Request) async throws -> Response {
        let body: Verdict.Body
        do {
            let buffer = try await request.body.collect(upTo: maxBodyBytes)
            let verified = try verifier.verify(body: Array(buffer.readableBytesView), headers: request.headers)
            body = .init(valid: true, error: nil, message: "signature and timestamps are valid; this webhook would be accepted",
                         event: verified.envelope.event, sessionId: verified.sessionId)
        } catch let error as WebhookError {
            body = .init(valid: false, error: error.code, message: error.message, event: nil, sessionId: nil)
        } catch {
            let tooLarge = WebhookError.bodyTooLarge(limit: maxBodyBytes)
            body = .init(valid: false, error: tooLarge.code, message: tooLarge.message, event: nil, sessionId: nil)
        }
        return try .json(Verdict(data: body))
    }
}
