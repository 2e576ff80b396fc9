import Foundation
import InboxStore

/// One CRM endpoint that gets the inbox's events, as configured (`--forward-url` and
/// `--forward-secret`, or an entry of `--forward-config`).
public struct ForwardTarget: Sendable {
    /// Names the target in the database, the API and metrics: `[a-z0-9_-]{1,64}`.
    public let name: String
    /// Where events are POSTed: from configuration only, never from a request.
    public let url: URL
    /// The Standard Webhooks key (the bytes after `whsec_`, base64-decoded).
    let key: [UInt8]
    /// Only these sessions' events (nil: every session).
    public let sessions: Set<String>?
    /// The sessions whose events this target gets.
    public let scope: SessionScope
    /// Only these event types (nil: every type).
    public let types: Set<String>?
    /// The most requests in flight to this target at once.
    public let concurrency: Int
    /// How long one attempt may take, connecting included.
    public let timeout: Duration
    /// How long an event is retried before it becomes a dead letter.
    public let retryFor: Duration
    /// The pause before the first retry; each next one doubles (with jitter), up to an hour.
    /// (Tests shorten it.)
    public var firstRetryPause: Duration = .seconds(2)

    public static let defaultConcurrency = 8
    public static let defaultTimeout = Duration.seconds(10)
    public static let defaultRetryFor = Duration.seconds(3 * 86_400)

    public init(name: String, url: String, secret: String, sessions: [String]? = nil, types: [String]? = nil,
                concurrency: Int = Self.defaultConcurrency, timeout: Duration = Self.defaultTimeout,
                retryFor: Duration = Self.defaultRetryFor) throws(ForwardingConfigurationError) {
        guard !name.isEmpty, name.count <= 64,
              name.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" })
        else { throw .init("forwarding target name \"\(name)\" must be 1-64 of a-z, 0-9, - and _") }
        guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = parsed.host, !host.isEmpty, parsed.user == nil, parsed.password == nil
        else { throw .init("forwarding target \(name): url must be an http or https URL without credentials") }
        guard secret.hasPrefix("whsec_"), let key = Data(base64Encoded: String(secret.dropFirst(6))), key.count >= 16 else {
            throw .init("forwarding target \(name): the secret must be whsec_ followed by base64 of at least 16 bytes")
        }
        if let types {
            let unknown = types.filter { InboxEventType(rawValue: $0) == nil }
            guard unknown.isEmpty else {
                throw .init("forwarding target \(name): unknown event type \(unknown.sorted().joined(separator: ", ")) "
                            + "(known: \(InboxEventType.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
        }
        if let sessions {
            guard !sessions.isEmpty, let scope = try? SessionScope.limited(to: sessions) else {
                throw .init("forwarding target \(name): sessions must be a non-empty list of session ids")
            }
            self.scope = scope
        } else {
            scope = .everySession
        }
        guard (1...256).contains(concurrency) else { throw .init("forwarding target \(name): concurrency must be 1-256") }
        guard timeout > .zero, timeout <= .seconds(300) else { throw .init("forwarding target \(name): timeout must be 1-300 s") }
        guard retryFor >= .seconds(60) else { throw .init("forwarding target \(name): retry time must be at least 60 s") }
        self.name = name
        self.url = parsed
        self.key = Array(key)
        self.sessions = sessions.map(Set.init)
        self.types = types.map(Set.init)
        self.concurrency = concurrency
        self.timeout = timeout
        self.retryFor = retryFor
    }


    /// The URL as shown in the API and stored: without its query, which may carry a token.
    public var shownURL: String {
        let text = url.absoluteString
        guard let query = text.firstIndex(of: "?") else { return text }
        return text[..<query] + "?…"
    }
}

/// A forwarding setting that cannot be used; the message says which and why (never a secret).
public struct ForwardingConfigurationError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension ForwardTarget {
    /// The targets of a `--forward-config` file:
    ///
    ///     {"targets": [{"name": "crm", "url": "https://crm.example/hooks/whatsapp",
    ///                   "secret_file": "/run/secrets/crm-whsec",            // or "secret": "whsec_…"
    ///                   "sessions": ["sales"], "events": ["message.received"],  // optional filters
    ///                   "concurrency": 8, "timeout_seconds": 10, "retry_hours": 72}]}
    public static func targets(configFile path: String, readSecret: (String) throws -> String) throws -> [ForwardTarget] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ForwardingConfigurationError("cannot read the forwarding config \(path)")
        }
        let file: ConfigFile
        do {
            file = try JSONDecoder().decode(ConfigFile.self, from: data)
        } catch {
            throw ForwardingConfigurationError("the forwarding config \(path) is not valid: \(Self.reason(error))")
        }
        var names = Set<String>()
        return try file.targets.map { entry in
            guard names.insert(entry.name).inserted else { throw ForwardingConfigurationError("forwarding target \(entry.name) is listed twice") }
            let secret: String
            switch (entry.secret, entry.secret_file) {
            case (let value?, nil): secret = value
            case (nil, let file?): secret = try readSecret(file)
            default: throw ForwardingConfigurationError("forwarding target \(entry.name): give exactly one of secret and secret_file")
            }
            return try ForwardTarget(
                name: entry.name, url: entry.url, secret: secret, sessions: entry.sessions, types: entry.events,
                concurrency: entry.concurrency ?? defaultConcurrency,
                timeout: entry.timeout_seconds.map { .milliseconds(Int64($0 * 1000)) } ?? defaultTimeout,
                retryFor: entry.retry_hours.map { .seconds(Int64($0 * 3600)) } ?? defaultRetryFor
            )
        }
    }

    private struct ConfigFile: Decodable {
        let targets: [Entry]
        // swiftlint:disable identifier_name
        struct Entry: Decodable {
            let name: String
            let url: String
            let secret: String?
            let secret_file: String?
            let sessions: [String]?
            let events: [String]?
            let concurrency: Int?
            let timeout_seconds: Double?
            let retry_hours: Double?
        }
    }

    /// What was wrong with the file, without echoing its values (it holds secrets).
    private static func reason(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            return "missing \(path(context.codingPath + [key]))"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "wrong type at \(path(context.codingPath))"
        case DecodingError.dataCorrupted(let context):
            return context.codingPath.isEmpty ? "not JSON" : "bad value at \(path(context.codingPath))"
        default:
            return "unreadable"
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
    }
}
