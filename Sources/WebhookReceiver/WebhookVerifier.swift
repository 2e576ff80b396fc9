import Crypto
import Foundation
import Hummingbird
import HTTPTypes
import InboxStore

/// Decides whether a webhook really comes from the gateway, now: HMAC-SHA256 of the exact body with
/// the session's secret (constant-time), a fresh `X-Webhook-Timestamp`, and a fresh signed envelope
/// `timestamp` — the header is not covered by the signature, the body is.
public struct WebhookVerifier: Sendable {
    public let secrets: WebhookSecrets
    /// How far a timestamp may be from now, either way.
    public let tolerance: TimeInterval
    private let now: @Sendable () -> Date

    public init(secrets: WebhookSecrets, tolerance: TimeInterval, now: @escaping @Sendable () -> Date = Date.init) {
        self.secrets = secrets
        self.tolerance = tolerance
        self.now = now
    }

    /// A webhook that passed every check.
    public struct Verified: Sendable {
        public let envelope: WebhookEnvelope
        /// The body's `sessionId`, else the `X-Webhook-Session` header.
        public let sessionId: String?
    }

    /// Checks a webhook. Nothing of an unauthenticated body is decoded: without an
    /// `X-Webhook-Session` header the secret is chosen by a bounded scan for the body's
    /// `sessionId` (`SessionIdScanner`), the signature is checked, and only then is the body
    /// parsed, once. The parsed `sessionId` must then belong to the same secret the scan chose.
    public func verify(body: [UInt8], headers: HTTPFields) throws(WebhookError) -> Verified {
        guard let signatureHeader = headers[.webhookSignature], !signatureHeader.isEmpty else {
            throw .missingSignature
        }
        guard let timestampHeader = headers[.webhookTimestamp], !timestampHeader.isEmpty else {
            throw .missingTimestamp
        }
        guard let sent = Self.parseEpoch(timestampHeader) else { throw .invalidTimestamp }
        try checkFreshness(sent, source: "X-Webhook-Timestamp header")

        let headerSession = headers[.webhookSession].flatMap { $0.isEmpty ? nil : $0 }
        let claimedSession = headerSession ?? SessionIdScanner.scan(body)
        guard let signature = Self.decodeSignature(signatureHeader),
              secrets.keys(for: claimedSession).contains(where: {
                  HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: body, using: $0)
              })
        else {
            throw .invalidSignature
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
            try checkFreshness(signedTime, source: "signed envelope timestamp")
        }
        return Verified(envelope: envelope, sessionId: envelope.sessionId ?? headerSession)
    }

    private func checkFreshness(_ time: Date, source: String) throws(WebhookError) {
        let age = now().timeIntervalSince(time)
        if age > tolerance { throw .staleTimestamp(source: source) }
        if age < -tolerance { throw .futureTimestamp(source: source) }
    }

    /// Milliseconds since the epoch; values below 10^12 are taken as seconds.
    static func parseEpoch(_ text: String) -> Date? {
        guard let value = Double(text.trimmingCharacters(in: .whitespaces)), value.isFinite, value > 0 else {
            return nil
        }
        return Date(timeIntervalSince1970: value < 1e12 ? value : value / 1000)
    }

    /// The 32 signature bytes from `sha256=<hex>` or bare hex, either case; nil if malformed.
    static func decodeSignature(_ header: String) -> [UInt8]? {
        var hex = Substring(header.trimmingCharacters(in: .whitespaces))
        if hex.lowercased().hasPrefix("sha256=") { hex = hex.dropFirst(7) }
        let digits = Array(hex.utf8)
        guard digits.count == 64 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        var index = 0
        while index < 64 {
            guard let high = hexValue(digits[index]), let low = hexValue(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return digit - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

extension HTTPField.Name {
    public static let webhookSignature = HTTPField.Name("X-Webhook-Signature")!
    public static let webhookTimestamp = HTTPField.Name("X-Webhook-Timestamp")!
    public static let webhookSession = HTTPField.Name("X-Webhook-Session")!
    public static let webhookEvent = HTTPField.Name("X-Webhook-Event")!
}
