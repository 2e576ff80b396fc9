import Hummingbird
import Crypto
import Foundation
import InboxHTTP
import InboxStore
import Logging

/// The webhook endpoint the gateway posts to.
///
/// Order of checks: size, signature and timestamps, then the body. Nothing is stored unless every
/// check passes, and the answer 200 goes out only after the delivery is committed.
public struct WebhookController<Context: RequestContext>: Sendable {
    /// Our own path, and the Frappe path of the integrator guide, so a CRM configured per the guide
    /// can switch to InboxLite without touching the gateway.
    public static var paths: [RouterPath] {
        ["/webhooks/inbox-hub", "/api/method/xappiens_whatsapp.api.webhook.handle_webhook"]
    }

    let verifier: WebhookVerifier
    let writer: DeliveryWriter
    let maxBodyBytes: Int
    let metrics: InboxMetrics

    public init(verifier: WebhookVerifier, writer: DeliveryWriter, maxBodyBytes: Int, metrics: InboxMetrics) {
        self.verifier = verifier
        self.writer = writer
        self.maxBodyBytes = maxBodyBytes
        self.metrics = metrics
    }

    public func addRoutes(to router: some RouterMethods<Context>) {
        for path in Self.paths {
            router.post(path) { request, context in
                try await receive(request, context: context)
            }
        }
    }


    func receive(_ request: Request, context: Context) async throws -> Response {
        let receivedAt = Date()
        let started = ContinuousClock.now
        var logger = context.logger
        if let session = request.headers[.webhookSession] { logger[metadataKey: "session"] = "\(session)" }
        do {
            let body = try await collect(request)
            let verified = try verifier.verify(body: body, headers: request.headers)
            logger[metadataKey: "event"] = "\(verified.envelope.event)"
            if let session = verified.sessionId { logger[metadataKey: "session"] = "\(session)" }

            let delivery = IncomingDelivery(
                body: body, bodySHA256: SHA256.hash(data: body).hexString, sessionId: verified.sessionId,
                receivedAt: receivedAt, envelope: verified.envelope
            )
            let result: DeliveryResult
            do {
                result = try await writer.submit(delivery)
            } catch DeliveryWriter.Failure.busy {
                throw WebhookError.storeBusy
            } catch {
                throw WebhookError.storeUnavailable
            }
            let outcome: String
            switch result {
            case .duplicate: outcome = "duplicate"
            case .stored(_, let status): outcome = status.rawValue
            }
            metrics.delivery(event: verified.envelope.event, outcome: outcome, duration: ContinuousClock.now - started)
            logger.debug("webhook delivery", metadata: [
                "outcome": "\(outcome)", "duration_ms": "\(Self.milliseconds(since: started))",
            ])
            return .json(bytes: result == .duplicate ? WebhookAnswers.duplicate : WebhookAnswers.accepted)
        } catch let error as WebhookError {
            metrics.rejected(reason: error.code)
            let level: Logger.Level = error == .storeUnavailable ? .error : (error == .storeBusy ? .warning : .notice)
            logger.log(level: level, "webhook rejected", metadata: [
                "status": "\(error.status.code)", "reason": "\(error.code)",
                "duration_ms": "\(Self.milliseconds(since: started))",
            ])
            throw error
        }
    }

    /// Reads the whole body, refusing it early when Content-Length already says it is too large.
    private func collect(_ request: Request) async throws(WebhookError) -> [UInt8] {
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > maxBodyBytes {
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
