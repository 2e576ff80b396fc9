import InboxEvents
import Hummingbird
import Crypto
import Foundation
import InboxHTTP
import InboxStore
import Logging

/// A gateway's webhook endpoints.
///
/// Order of checks: size, credentials (signature, token, timestamps), then the body. Nothing is
/// stored unless every check passes, and the answer 200 goes out only after the delivery is
/// committed. A gateway without its secret configured is off: its endpoints answer 404
/// `provider_disabled` without reading the body.
public struct WebhookController<Context: RequestContext>: Sendable {
    /// Inbox Hub: our own path, and the Frappe path of the integrator guide, so a CRM configured
    /// per the guide can switch to InboxLite without touching the gateway.
    public static var inboxHubPaths: [RouterPath] {
        ["/webhooks/inbox-hub", "/api/method/xappiens_whatsapp.api.webhook.handle_webhook"]
    }

    /// Each gateway's POST paths (Evolution's "webhook by events" mode appends a suffix, which is
    /// accepted and not trusted: the body's `event` decides).
    public static func paths(for provider: Provider) -> [RouterPath] {
        switch provider {
        case .inboxHub: return inboxHubPaths
        case .meta: return ["/webhooks/meta"]
        case .waha: return ["/webhooks/waha"]
        case .evolution: return ["/webhooks/evolution", "/webhooks/evolution/:eventSuffix"]
        }
    }

    let provider: Provider
    let authenticator: (any WebhookAuthenticator)?
    let writer: any DeliveryIngest
    let maxBodyBytes: Int
    let metrics: InboxMetrics

    /// - Parameter authenticator: nil when the gateway is not configured (its endpoints are off).
    public init(
        provider: Provider, authenticator: (any WebhookAuthenticator)?, writer: any DeliveryIngest, maxBodyBytes: Int, metrics: InboxMetrics
    ) {
        self.provider = provider
        self.authenticator = authenticator
        self.writer = writer
        self.maxBodyBytes = maxBodyBytes
        self.metrics = metrics
    }

    public func addRoutes(to router: some RouterMethods<Context>) {
        for path in Self.paths(for: provider) {
            router.post(path) { request, context in
                try await receive(request, context: context)
            }
        }
    }

    func receive(_ request: Request, context: Context) async throws -> Response {
        let receivedAt = Date()
        let started = ContinuousClock.now
        // No logger metadata is built on the way in: the stream handler formats metadata on every
        // change, which cost more than the signature check. Refusals log with their context below.
        var event: String?
        var session: String?
        do {
            guard let authenticator else { throw WebhookError.providerDisabled(provider.rawValue) }
            let body = try await collect(request)
            let verified = try authenticator.verify(body: body, headers: request.headers, query: request.uri.query)
            event = verified.envelope.event
            session = verified.sessionId

            let delivery = IncomingDelivery(
                body: body, bodySHA256: IncomingDelivery.sha256Hex(of: body), sessionId: verified.sessionId,
                receivedAt: receivedAt, envelope: verified.envelope
            )
            let result: DeliveryResult
            do {
                result = try await writer.submit(delivery)
            } catch IngestFailure.busy {
                throw WebhookError.storeBusy
            } catch {
                throw WebhookError.storeUnavailable
            }
            let outcome: String
            switch result {
            case .duplicate: outcome = "duplicate"
            case .stored(_, let status, _): outcome = status.rawValue
            }
            metrics.delivery(provider: provider.rawValue, event: verified.envelope.inboxEvent ?? "other", outcome: outcome,
                             duration: ContinuousClock.now - started)
            if context.logger.logLevel <= .debug {
                context.logger.debug("webhook delivery", metadata: [
                    "provider": "\(provider.rawValue)", "event": "\(verified.envelope.event)",
                    "session": "\(verified.sessionId ?? "-")", "outcome": "\(outcome)",
                    "duration_ms": "\(Self.milliseconds(since: started))",
                ])
            }
            return .json(bytes: result == .duplicate ? WebhookAnswers.duplicate : WebhookAnswers.accepted)
        } catch let error as WebhookError {
            metrics.rejected(reason: error.code)
            let level: Logger.Level = error == .storeUnavailable ? .error : (error == .storeBusy ? .warning : .notice)
            var metadata: Logger.Metadata = [
                "provider": "\(provider.rawValue)", "status": "\(error.status.code)", "reason": "\(error.code)",
                "duration_ms": "\(Self.milliseconds(since: started))",
            ]
            // The verified session when verification got that far, else what the header claimed.
            if let session = session ?? request.headers.value(.webhookSession) { metadata["session"] = "\(session)" }
            if let event { metadata["event"] = "\(event)" }
            context.logger.log(level: level, "webhook rejected", metadata: metadata)
            throw error
        }
    }

    /// Reads the whole body, refusing it early when Content-Length already says it is too large.
    private func collect(_ request: Request) async throws(WebhookError) -> [UInt8] {
        if let declared = request.headers.value(.contentLength).flatMap(Int.init), declared > maxBodyBytes {
            throw .bodyTooLarge(limit: maxBodyBytes)
        }
        do {
            let buffer = try await request.body.collect(upTo: maxBodyBytes)
            return Array(buffer.readableBytesView)
        } catch {
            throw .bodyTooLarge(limit: maxBodyBytes)
        }
    }

    private static func milliseconds(since start: ContinuousClock.Instant) -> String {
        let elapsed = ContinuousClock.now - start
        let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        return String(format: "%.2f", ms)
    }
}

/// The success bodies, encoded once.
enum WebhookAnswers {
    static let accepted = Array(#"{"success":true,"received":true}"#.utf8)
    static let duplicate = Array(#"{"success":true,"received":true,"duplicate":true}"#.utf8)
}
