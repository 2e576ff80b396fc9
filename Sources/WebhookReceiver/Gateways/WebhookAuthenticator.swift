import InboxEvents
import Crypto
import Foundation
import Hummingbird
import HTTPTypes
import InboxStore

/// Authenticates one gateway's webhooks and only then parses them: every receiver endpoint goes
/// through one of these, so "nothing is decoded before it is authenticated" holds for all.
public protocol WebhookAuthenticator: Sendable {
    var provider: Provider { get }
    /// Checks the request's credentials against the raw body, then parses it once. `query` is
    /// the raw query string (Evolution's global webhook can only carry its token there).
    func verify(body: [UInt8], headers: HTTPFields, query: String?) throws(WebhookError) -> Verified
}

/// A webhook that passed every check.
public struct Verified: Sendable {
    public let envelope: WebhookEnvelope
    /// The delivery's session: the body's, else (Inbox Hub) the `X-Webhook-Session` header.
    public let sessionId: String?
}

/// How far a gateway's timestamps may be from now.
struct Freshness: Sendable {
    let tolerance: TimeInterval
    let now: @Sendable () -> Date

    func check(_ time: Date, source: String) throws(WebhookError) {
        let age = now().timeIntervalSince(time)
        if age > tolerance { throw .staleTimestamp(source: source) }
        if age < -tolerance { throw .futureTimestamp(source: source) }
    }
}

/// Parses an authenticated body with the gateway's dialect and checks that the session it names
/// is checked against the same secrets as the session the pre-parse scan claimed.
func parseAuthenticated(
    _ body: [UInt8], provider: Provider, claimed: String?, secrets: WebhookSecrets
) throws(WebhookError) -> WebhookEnvelope {
    let envelope: WebhookEnvelope
    do {
        envelope = try WebhookEnvelope.parse(body, provider: provider)
    } catch {
        throw .badEnvelope(error)
    }
    guard secrets.sameSecrets(claimed, envelope.sessionId) else { throw .sessionMismatch }
    return envelope
}

/// Compares secrets without leaking where they differ: both sides are MACed under a random
/// per-process key and the digests compared in constant time.
enum ConstantTime {
    private static let key = SymmetricKey(size: .bits256)

    static func equal(_ a: some DataProtocol, _ b: some DataProtocol) -> Bool {
        let expected = HMAC<SHA256>.authenticationCode(for: b, using: key)
        return HMAC<SHA256>.isValidAuthenticationCode(expected, authenticating: a, using: key)
    }
}
