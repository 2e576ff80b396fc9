import Foundation

/// A webhook body, parsed (once, after it was authenticated) and decoded by its gateway's dialect.
///
/// Parsing has two outcomes that must stay apart: a body that is not a usable envelope at all is
/// rejected (`EnvelopeError`, HTTP 400, nothing stored), while an envelope whose payload cannot be
/// applied is accepted and stored as a failed delivery (`payload` holds the `PayloadError`).
public struct WebhookEnvelope: Sendable {
    public let provider: Provider
    /// The gateway's own event name (`message.received`, `message.any`, `messages.upsert`, Meta's
    /// change field `messages`); stored as `webhook_deliveries.event`.
    public let event: String
    /// The InboxLite session id the body names (Inbox Hub `sessionId`, `waha:<session>`,
    /// `evolution:<instance>`, `meta:<phone_number_id>` of the first change).
    public let sessionId: String?
    /// The envelope's own timestamp, when it has one (checked for freshness).
    public let signedTime: Date?
    /// The decoded events, or why they cannot be applied.
    public let payload: Result<[RoutedEvent], PayloadError>
    /// The body to store when the received one held secrets (`SecretFields`): the same bytes with
    /// their values replaced. nil when the body had none.
    public private(set) var scrubbedBody: [UInt8]?

    public init(provider: Provider, event: String, sessionId: String?, signedTime: Date?,
                payload: Result<[RoutedEvent], PayloadError>) {
        self.provider = provider
        self.event = event
        self.sessionId = sessionId
        self.signedTime = signedTime
        self.payload = payload
    }

    /// Parses a raw body with the dialect of `provider`.
    public static func parse(_ body: [UInt8], provider: Provider = .inboxHub) throws(EnvelopeError) -> WebhookEnvelope {
        let document = try parseObject(body)
        guard !document.secretRanges.isEmpty else { return try decode(document, body: body, provider: provider) }
        // Decoded from the scrubbed bytes, so no `data` slice can carry a secret either. (Parsed
        // once more: the replaced values still sit under secret names, so they are not looked at.)
        let scrubbed = SecretFields.scrub(body, ranges: document.secretRanges)
        var envelope = try decode(try parseObject(scrubbed), body: scrubbed, provider: provider)
        envelope.scrubbedBody = scrubbed
        return envelope
    }

    private static func parseObject(_ body: [UInt8]) throws(EnvelopeError) -> JSONParser.Document {
        let document: JSONParser.Document
        do {
            document = try JSONParser.parse(body)
        } catch {
            throw .malformedJSON(error.reason)
        }
        guard document.value.isObject else { throw .notAnObject }
        return document
    }

    private static func decode(_ document: JSONParser.Document, body: [UInt8], provider: Provider) throws(EnvelopeError) -> WebhookEnvelope {
        switch provider {
        case .inboxHub: return try InboxHubDialect.envelope(document, body: body)
        case .meta: return try MetaDialect.envelope(document, body: body)
        case .waha: return try WAHADialect.envelope(document, body: body)
        case .evolution: return try EvolutionDialect.envelope(document, body: body)
        }
    }

    /// InboxLite's name for what this delivery does (the first event that does something): what
    /// the live stream sends and `webhook_deliveries.inbox_event` keeps.
    public var inboxEvent: String? {
        guard case .success(let events) = payload else { return nil }
        return events.lazy.compactMap(\.event.kind).first
    }

    /// The exact bytes of a top-level member, `{}` when absent.
    static func member(_ name: String, of document: JSONParser.Document, body: [UInt8]) -> [UInt8] {
        guard document.value.object(name) != nil, let range = document.memberRanges[name] else { return Array("{}".utf8) }
        return Array(body[range])
    }

    /// A required non-empty string member, or the envelope error naming it.
    static func requiredString(_ name: String, in root: JSONValue) throws(EnvelopeError) -> String {
        guard let value = root[name] else {
            throw name == "event" ? .missingEvent : .invalidField(name, "is required")
        }
        guard case .string(let text) = value, !text.isEmpty else { throw .invalidField(name, "must be a non-empty string") }
        return text
    }
}

/// Inbox Hub: `{"event", "sessionId", "data", "timestamp"}` (the integrator guide's envelope).
enum InboxHubDialect {
    static func envelope(_ document: JSONParser.Document, body: [UInt8]) throws(EnvelopeError) -> WebhookEnvelope {
        let root = document.value
        let event = try WebhookEnvelope.requiredString("event", in: root)
        var sessionId: String?
        switch root["sessionId"] {
        case nil, .null?: sessionId = nil
        case .string(let value)?: sessionId = value
        default: throw .invalidField("sessionId", "must be a string")
        }
        var signedTime: Date?
        switch root["timestamp"] {
        case nil, .null?: signedTime = nil
        case .string(let value)?:
            guard let time = Timestamps.parse(value) else { throw .invalidField("timestamp", "must be an ISO 8601 date-time") }
            signedTime = time
        default: throw .invalidField("timestamp", "must be an ISO 8601 date-time")
        }
        let payload: Result<[RoutedEvent], PayloadError>
        do {
            let decoded = try InboxEvent.decode(event, data: root.object("data"))
            payload = .success([RoutedEvent(session: nil, event: decoded, dataJSON: WebhookEnvelope.member("data", of: document, body: body))])
        } catch {
            payload = .failure(error)
        }
        return WebhookEnvelope(provider: .inboxHub, event: event, sessionId: sessionId, signedTime: signedTime, payload: payload)
    }
}

/// Why a body is not a webhook envelope at all.
public enum EnvelopeError: Error, Sendable, Equatable {
    case malformedJSON(String)
    case notAnObject
    case missingEvent
    case invalidField(String, String)

    /// A stable, machine-readable code for the error response.
    public var code: String {
        switch self {
        case .malformedJSON: return "malformed_json"
        case .notAnObject: return "not_an_object"
        case .missingEvent: return "missing_event"
        case .invalidField: return "invalid_field"
        }
    }

    /// What is wrong, for a human.
    public var message: String {
        switch self {
        case .malformedJSON(let reason): return "the body is not valid JSON: \(reason)"
        case .notAnObject: return "the body must be a JSON object"
        case .missingEvent: return "the body has no \"event\" field"
        case .invalidField(let name, let problem): return "\"\(name)\" \(problem)"
        }
    }
}
