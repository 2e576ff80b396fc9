import InboxEvents
import Crypto
import Foundation
import Hummingbird
import InboxHTTP
import HTTPTypes
import InboxStore

/// Decides whether a webhook really comes from the gateway, now: HMAC-SHA256 of the exact body with
/// the session's secret (constant-time), a fresh `X-Webhook-Timestamp`, and a fresh signed envelope
/// `timestamp` — the header is not covered by the signature, the body is.
public struct WebhookVerifier: WebhookAuthenticator {
    public let provider = Provider.inboxHub
    public let secrets: WebhookSecrets
    /// How far a timestamp may be from now, either way.
    private let freshness: Freshness

    public init(secrets: WebhookSecrets, tolerance: TimeInterval, now: @escaping @Sendable () -> Date = Date.init) {
        self.secrets = secrets
        freshness = Freshness(tolerance: tolerance, now: now)
    }

    public func verify(body: [UInt8], headers: HTTPFields, query: String?) throws(WebhookError) -> Verified {
        try verify(body: body, headers: headers)
    }

    /// Checks a webhook. Nothing of an unauthenticated body is decoded: without an
    /// `X-Webhook-Session` header the secret is chosen by a bounded scan for the body's
    /// `sessionId` (`SessionIdScanner`), the signature is checked, and only then is the body
    /// parsed, once. The parsed `sessionId` must then belong to the same secret the scan chose.
    public func verify(body: [UInt8], headers: HTTPFields) throws(WebhookError) -> Verified {
        guard let signatureHeader = headers.value(.webhookSignature), !signatureHeader.isEmpty else {
            throw .missingSignature()
        }
        guard let timestampHeader = headers.value(.webhookTimestamp), !timestampHeader.isEmpty else {
            throw .missingTimestamp
        }
        guard let sent = SignatureHeaders.parseEpoch(timestampHeader) else { throw .invalidTimestamp }
        try freshness.check(sent, source: "X-Webhook-Timestamp header")

        let headerSession = headers.value(.webhookSession).flatMap { $0.isEmpty ? nil : $0 }
        let claimedSession = headerSession ?? SessionIdScanner.scan(body)
        guard let signature = SignatureHeaders.decodeSignature(signatureHeader),
              secrets.keys(for: claimedSession).contains(where: {
                  HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: body, using: $0)
              })
        else {
            throw .invalidSignature()
        }

        let envelope: WebhookEnvelope
        do {
            envelope = try WebhookEnvelope.parse(body)
        } catch {
            throw .badEnvelope(error)
        }
        if let headerSession, let bodySession = envelope.sessionId, headerSession != bodySession {
            throw .sessionMismatch
        }
        // The scan picked the secret; the parsed body must not claim a session with other secrets
        // (a body built to fool the scan must not be accepted as a listed session's).
        if headerSession == nil, !secrets.sameSecrets(claimedSession, envelope.sessionId) {
            throw .sessionMismatch
        }
        if let signedTime = envelope.signedTime {
            try freshness.check(signedTime, source: "signed envelope timestamp")
        }
        return Verified(envelope: envelope, sessionId: envelope.sessionId ?? headerSession)
    }
}

extension HTTPField.Name {
    public static let webhookSignature = HTTPField.Name("X-Webhook-Signature")!
    public static let webhookTimestamp = HTTPField.Name("X-Webhook-Timestamp")!
    public static let webhookSession = HTTPField.Name("X-Webhook-Session")!
    public static let webhookEvent = HTTPField.Name("X-Webhook-Event")!
}
