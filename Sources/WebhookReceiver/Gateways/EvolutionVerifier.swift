import InboxEvents
import Crypto
import Foundation
import Hummingbird
import InboxHTTP
import HTTPTypes
import InboxStore

/// Evolution API signs nothing. A delivery is accepted with any one of: `Authorization: Bearer
/// <JWT>` (its `jwt_key` mode: HS256 signed with the token, `exp` in the future, `app` =
/// "evolution", `action` = "webhook"), `X-InboxLite-Token: <token>` (a static webhook header), or
/// `?token=<token>` (its global webhook sends no headers). Tokens compare in constant time. The
/// secret is chosen by a bounded scan for the body's `instance` (`evolution:<instance>` in the
/// secrets file).
public struct EvolutionVerifier: WebhookAuthenticator {
    public let provider = Provider.evolution
    let secrets: WebhookSecrets
    let now: @Sendable () -> Date

    public init(token: String, perSession: [String: [String]], now: @escaping @Sendable () -> Date = Date.init) {
        secrets = WebhookSecrets(defaultSecret: token, perSession: perSession)
        self.now = now
    }

    public func verify(body: [UInt8], headers: HTTPFields, query: String?) throws(WebhookError) -> Verified {
        let claimed = SessionIdScanner.scan(body, key: "instance").map(provider.sessionId)
        if let authorization = headers.value(.authorization), authorization.lowercased().hasPrefix("bearer ") {
            try verifyJWT(String(authorization.dropFirst(7).trimmingSpacesAndTabs), keys: secrets.keys(for: claimed))
        } else if let token = headers.value(.inboxLiteToken) ?? Self.tokenParameter(query) {
            guard secrets.secrets(for: claimed).contains(where: { ConstantTime.equal(Array(token.utf8), Array($0.utf8)) }) else {
                throw .invalidCredentials("the token does not match this instance's Evolution token")
            }
        } else {
            throw .missingCredentials("Authorization: Bearer <JWT>, X-InboxLite-Token or ?token=")
        }
        let envelope = try parseAuthenticated(body, provider: provider, claimed: claimed, secrets: secrets)
        return Verified(envelope: envelope, sessionId: envelope.sessionId)
    }

    /// `token` from the raw query string, percent-decoded.
    static func tokenParameter(_ query: String?) -> String? {
        guard let query, !query.isEmpty else { return nil }
        var components = URLComponents()
        components.percentEncodedQuery = query
        return components.queryItems?.first { $0.name == "token" }?.value
    }

    /// HS256 over `header.payload`, checked before either part is decoded.
    private func verifyJWT(_ jwt: String, keys: [SymmetricKey]) throws(WebhookError) {
        let parts = jwt.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let signature = Base64URL.decode(parts[2]) else {
            throw .invalidCredentials("the bearer token is not a JWT")
        }
        let signed = Array("\(parts[0]).\(parts[1])".utf8)
        guard keys.contains(where: { HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: signed, using: $0) }) else {
            throw .invalidCredentials("the JWT signature does not match this instance's Evolution token")
        }
        guard let headerBytes = Base64URL.decode(parts[0]), let header = try? JSONParser.parse(headerBytes).value,
              header.string("alg") == "HS256",
              let payloadBytes = Base64URL.decode(parts[1]), let claims = try? JSONParser.parse(payloadBytes).value
        else {
            throw .invalidCredentials("the JWT must be HS256 with a JSON payload")
        }
        guard let exp = claims.int("exp"), Double(exp) > now().timeIntervalSince1970 else {
            throw .invalidCredentials("the JWT has expired (exp)")
        }
        guard claims.string("app") == "evolution", claims.string("action") == "webhook" else {
            throw .invalidCredentials("the JWT must carry app \"evolution\" and action \"webhook\"")
        }
    }
}

/// Base64url without padding (JWT).
enum Base64URL {
    static func decode(_ text: Substring) -> [UInt8]? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64).map(Array.init)
    }

    static func encode(_ bytes: some DataProtocol) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}
