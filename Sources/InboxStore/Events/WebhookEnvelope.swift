import Foundation

/// The signed JSON body the gateway posts: `{"event", "sessionId", "data", "timestamp"}`.
///
/// Parsing has two outcomes that must stay apart: a body that is not a usable envelope at all is
/// rejected (`EnvelopeError`, HTTP 400, nothing stored), while an envelope whose `data` cannot be
/// applied is accepted and stored as a failed delivery (`payload` holds the `PayloadError`).
public struct WebhookEnvelope: Sendable {
    public let event: String
    public let sessionId: String?
    /// The envelope's ISO 8601 `timestamp` as sent, when present.
    public let timestamp: String?
    /// The decoded event, or why it cannot be applied.
    public let payload: Result<InboxEvent, PayloadError>
    /// The exact bytes of the `data` member as signed (`messages.data`, `session_events.data`);
    /// `{}` when the body has none.
    public let dataJSON: [UInt8]

    /// Parses a raw webhook body (once, after it has been authenticated).
    public static func parse(_ body: [UInt8]) throws(EnvelopeError) -> WebhookEnvelope {
        let document: JSONParser.Document
        do {
            document = try JSONParser.parse(body)
        } catch {
            throw .malformedJSON(error.reason)
        }
        let root = document.value
        guard root.isObject else { throw .notAnObject }
        guard let eventValue = root["event"] else { throw .missingEvent }
        guard case .string(let event) = eventValue, !event.isEmpty else {
            throw .invalidField("event", "must be a non-empty string")
        }
        var sessionId: String?
        switch root["sessionId"] {
        case nil, .null?: sessionId = nil
        case .string(let value)?: sessionId = value
        default: throw .invalidField("sessionId", "must be a string")
        }
        var timestamp: String?
        switch root["timestamp"] {
        case nil, .null?: timestamp = nil
        case .string(let value)? where Timestamps.parse(value) != nil: timestamp = value
        default: throw .invalidField("timestamp", "must be an ISO 8601 date-time")
        }
        let data = root.object("data")
        let payload: Result<InboxEvent, PayloadError>
        do {
            payload = .success(try InboxEvent.decode(event, data: data))
        } catch {
            payload = .failure(error)
        }
        let dataJSON = data != nil ? document.memberRanges["data"].map { Array(body[$0]) } : nil
        return WebhookEnvelope(
            event: event, sessionId: sessionId, timestamp: timestamp, payload: payload,
            dataJSON: dataJSON ?? Array("{}".utf8)
        )
    }

    /// The envelope's signed timestamp, parsed; nil when absent.
    public var signedTime: Date? {
        timestamp.flatMap(Timestamps.parse)
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
