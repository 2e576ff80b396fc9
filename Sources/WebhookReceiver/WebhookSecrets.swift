import Crypto
import Foundation
import InboxStore

/// The shared secrets webhooks are signed with.
///
/// A session listed in the secrets file accepts only its own secrets (several at once while a
/// secret is rotated); every other session uses the default secret.
public struct WebhookSecrets: Sendable {
    private let defaultSecret: String
    private let perSession: [String: [String]]
    // HMAC keys made once, not on every request.
    private let defaultKey: SymmetricKey
    private let sessionKeys: [String: [SymmetricKey]]

    public init(defaultSecret: String, perSession: [String: [String]] = [:]) {
        self.defaultSecret = defaultSecret
        self.perSession = perSession
        defaultKey = SymmetricKey(data: Data(defaultSecret.utf8))
        sessionKeys = perSession.mapValues { $0.map { SymmetricKey(data: Data($0.utf8)) } }
    }

    /// The secrets a delivery for `session` may use (tokens compared as they are).
    func secrets(for session: String?) -> [String] {
        if let session, let secrets = perSession[session] { return secrets }
        return [defaultSecret]
    }

    /// The same, as HMAC keys.
    func keys(for session: String?) -> [SymmetricKey] {
        if let session, let keys = sessionKeys[session] { return keys }
        return [defaultKey]
    }

    /// True when deliveries for `a` and `b` are checked against the same secrets: both unlisted
    /// (the default secret), or the same listed session.
    func sameSecrets(_ a: String?, _ b: String?) -> Bool {
        let listedA = a.flatMap { perSession[$0] != nil ? $0 : nil }
        let listedB = b.flatMap { perSession[$0] != nil ? $0 : nil }
        return listedA == listedB
    }

    /// Reads a secrets file: `{"sessionId": "secret"}` or `{"sessionId": ["new", "old"]}`.
    public static func parseSecretsFile(_ data: Data) throws(SecretsFileError) -> [String: [String]] {
        guard let object = try? JSONSerialization.jsonObject(with: data) else {
            throw .malformed("is not valid JSON")
        }
        guard let entries = object as? [String: Any] else {
            throw .malformed("must be a JSON object mapping session ids to secrets")
        }
        var result: [String: [String]] = [:]
        for (session, value) in entries {
            let secrets: [String]
            if let single = value as? String {
                secrets = [single]
            } else if let list = value as? [Any], let strings = list as? [String] {
                secrets = strings
            } else {
                throw .malformed("session \"\(session)\" must map to a secret or a list of secrets")
            }
            guard !secrets.isEmpty, secrets.allSatisfy({ !$0.isEmpty }) else {
                throw .malformed("session \"\(session)\" has an empty secret")
            }
            result[session] = secrets
        }
        return result
    }
}

/// Why a secrets file cannot be used.
public enum SecretsFileError: Error, CustomStringConvertible {
    case malformed(String)

    public var description: String {
        switch self {
        case .malformed(let problem): return "secrets file \(problem)"
        }
    }
}

/// Signs bodies the way the gateways do; used by `inboxlite sign`, `send-test` and the tests.
public enum WebhookSigner {
    /// `sha256=<lowercase hex HMAC-SHA256 of body>` (Inbox Hub `X-Webhook-Signature`, Meta
    /// `X-Hub-Signature-256`).
    public static func signature(for body: some DataProtocol, secret: String) -> String {
        "sha256=" + HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8))).hexString
    }

    /// Lowercase hex HMAC-SHA512 of body (WAHA `X-Webhook-Hmac`).
    public static func sha512Hex(for body: some DataProtocol, secret: String) -> String {
        HMAC<SHA512>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8))).hexString
    }

    /// An HS256 JWT as Evolution's `jwt_key` mode sends it, valid for `lifetime` seconds.
    public static func evolutionJWT(token: String, now: Date = Date(), lifetime: TimeInterval = 600) -> String {
        let header = Base64URL.encode(Array(#"{"alg":"HS256","typ":"JWT"}"#.utf8))
        let issued = Int(now.timeIntervalSince1970)
        let claims = Base64URL.encode(Array(#"{"iat":\#(issued),"exp":\#(issued + Int(lifetime)),"app":"evolution","action":"webhook"}"#.utf8))
        let signature = HMAC<SHA256>.authenticationCode(for: Array("\(header).\(claims)".utf8), using: SymmetricKey(data: Data(token.utf8)))
        return "\(header).\(claims).\(Base64URL.encode(Array(signature)))"
    }
}
