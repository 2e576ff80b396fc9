import InboxEvents
import Foundation
import Hummingbird
import InboxHTTP
import InboxStore

/// The guide's integration checks: `GET /api/webhooks/test/connectivity` (open) and
/// `POST /api/webhooks/test/signature`, which says whether a webhook would be accepted and why
/// not, and stores nothing.
public struct WebhookTestController<Context: AuthorizedRequestContext>: Sendable {
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
        router.post("/api/webhooks/test/signature") { request, context in
            try await checkSignature(request, scope: context.sessionScope())
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

            /// The one answer for a body of a session the token may not see.
            static var notYourSession: Body { Body(valid: false, error: "session_not_allowed",
                                             message: "this API token may check only webhooks of its own sessions", event: nil, sessionId: nil) }
        }
    }

    /// A token limited to some sessions checks only webhooks of those sessions: for any other
    /// session (existing or not, with its own secret or not) the answer is the same refusal, so
    /// it learns nothing about another client's configuration.
    func checkSignature(_ request: Request, scope: SessionScope) async throws -> Response {
        let body: Verdict.Body
        do {
            let buffer = try await request.body.collect(upTo: maxBodyBytes)
            let claimed = request.headers.value(.webhookSession).flatMap { $0.isEmpty ? nil : $0 }
                ?? SessionIdScanner.scan(Array(buffer.readableBytesView))
            guard scope.allows(claimed) else { return try .json(Verdict(data: .notYourSession)) }
            let verified = try verifier.verify(body: Array(buffer.readableBytesView), headers: request.headers)
            guard scope.allows(verified.sessionId) else { return try .json(Verdict(data: .notYourSession)) }
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
