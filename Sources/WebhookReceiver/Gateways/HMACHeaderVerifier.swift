import InboxEvents
import Crypto
import Foundation
import Hummingbird
import InboxHTTP
import HTTPTypes
import InboxStore

/// Gateways that sign the raw body with an HMAC in one header: Meta (`X-Hub-Signature-256:
/// sha256=<hex HMAC-SHA256(app secret)>`) and WAHA (`X-Webhook-Hmac: <hex HMAC-SHA512(key)>`, with
/// `X-Webhook-Timestamp` and the envelope `timestamp` in milliseconds checked when present).
///
/// The secret is chosen by a bounded scan for the session the body names (`phone_number_id` for
/// Meta, `session` for WAHA), so per-session secrets (`meta:<id>`, `waha:<session>` in the secrets
/// file) work without parsing an unauthenticated body.
public struct HMACHeaderVerifier: WebhookAuthenticator {
    public enum Algorithm: Sendable {
        case sha256, sha512
    }

    public let provider: Provider
    let header: HTTPField.Name
    let algorithm: Algorithm
    let secrets: WebhookSecrets
    /// The member whose value names the session, for the pre-parse scan.
    let sessionKey: String
    /// WAHA only: how far its timestamps may be from now. Meta retries for days and sends none.
    let freshness: Freshness?

    /// Meta Cloud API: no freshness window (Meta sends no timestamp and retries for days).
    public static func meta(appSecret: String, perSession: [String: [String]]) -> HMACHeaderVerifier {
        HMACHeaderVerifier(
            provider: .meta, header: .hubSignature256, algorithm: .sha256,
            secrets: WebhookSecrets(defaultSecret: appSecret, perSession: perSession), sessionKey: "phone_number_id", freshness: nil
        )
    }

    /// WAHA: header and envelope timestamps within `tolerance` when present.
    public static func waha(
        hmacKey: String, perSession: [String: [String]], tolerance: TimeInterval, now: @escaping @Sendable () -> Date = Date.init
    ) -> HMACHeaderVerifier {
        HMACHeaderVerifier(
            provider: .waha, header: .webhookHMAC, algorithm: .sha512,
            secrets: WebhookSecrets(defaultSecret: hmacKey, perSession: perSession), sessionKey: "session",
            freshness: Freshness(tolerance: tolerance, now: now)
        )
    }

    public func verify(body: [UInt8], headers: HTTPFields, query: String?) throws(WebhookError) -> Verified {
        guard let signatureHeader = headers.value(header), !signatureHeader.isEmpty else {
            throw .missingSignature(header: header.canonicalName)
        }
        if let freshness, let stamp = headers.value(.webhookTimestamp), !stamp.isEmpty {
            guard let sent = SignatureHeaders.parseEpoch(stamp) else { throw .invalidTimestamp }
            try freshness.check(sent, source: "X-Webhook-Timestamp header")
        }
        let claimed = SessionIdScanner.scan(body, key: sessionKey).map(provider.sessionId)
        let keys = secrets.keys(for: claimed)
        let valid: Bool
        switch algorithm {
        case .sha256:
            guard let signature = SignatureHeaders.decodeHex(signatureHeader, prefix: "sha256=", bytes: 32) else {
                throw .invalidSignature(header: header.canonicalName)
            }
            valid = keys.contains { HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: body, using: $0) }
        case .sha512:
            guard let signature = SignatureHeaders.decodeHex(signatureHeader, prefix: "sha512=", bytes: 64) else {
                throw .invalidSignature(header: header.canonicalName)
            }
            valid = keys.contains { HMAC<SHA512>.isValidAuthenticationCode(signature, authenticating: body, using: $0) }
        }
        guard valid else { throw .invalidSignature(header: header.canonicalName) }

        let envelope = try parseAuthenticated(body, provider: provider, claimed: claimed, secrets: secrets)
        if let freshness, let signedTime = envelope.signedTime {
            try freshness.check(signedTime, source: "signed envelope timestamp")
        }
        return Verified(envelope: envelope, sessionId: envelope.sessionId)
    }
}

extension HTTPField.Name {
    public static let hubSignature256 = HTTPField.Name("X-Hub-Signature-256")!
    public static let webhookHMAC = HTTPField.Name("X-Webhook-Hmac")!
    public static let webhookHMACAlgorithm = HTTPField.Name("X-Webhook-Hmac-Algorithm")!
    public static let inboxLiteToken = HTTPField.Name("X-InboxLite-Token")!
}
