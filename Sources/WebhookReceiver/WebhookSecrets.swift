import Crypto
import Foundation

/// The shared secrets webhooks are signed with.
///
/// A session listed in the secrets file accepts only its own secrets (several at once while a
/// secret is rotated); every other session uses the default secret.
public struct WebhookSecrets: Sendable {
    private let defaultKey: SymmetricKey
    private let sessionKeys: [String: [SymmetricKey]]

    public init(defaultSecret: String, perSession: [String: [String]] = [:]) {
        defaultKey = SymmetricKey(data: Data(defaultSecret.utf8))
        sessionKeys = perSession.mapValues { $0.map { SymmetricKey(data: Data($0.utf8)) } }
    }

    /// The keys a delivery for `session` may be signed with.
    func keys(for session: String?) -> [SymmetricKey] {
        if let session, let keys = sessionKeys[session] { return keys }
        return [defaultKey]
    }

    /// True when deliveries for `a` and `b` are checked against the same secrets: both unlisted
    /// (the default secret), or the same listed session.
    func sameSecrets(_ a: String?, _ b: String?) -> Bool {
        let listedA = a.flatMap { sessionKeys[$0] != nil ? $0 : nil }
        let listedB = b.flatMap { sessionKeys[$0] != nil ? $0 : nil }
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

/// Signs bodies the way the gateway does; used by `inboxlite sign`, `send-test` and the tests.
public enum WebhookSigner {
    /// `sha256=<lowercase hex HMAC-SHA256 of body>`.
    public static func signature(for body: some DataProtocol, secret: String) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8)))
        return "sha256=" + Array(code).map { String(format: "%02x", $0) }.joined()
    }
}
