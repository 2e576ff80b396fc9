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

    /// Parses a raw webhook body.
    public static func parse(_ body: some Collection<UInt8>) throws(EnvelopeError) -> WebhookEnvelope {
        let data = Data(body)
        do {
            return try JSONDecoder().decode(Decoded.self, from: data).envelope
        } catch let error as EnvelopeError {
            throw error
        } catch DecodingError.typeMismatch(_, let context) where context.codingPath.isEmpty {
            throw .notAnObject
        } catch {
            throw .malformedJSON
        }
    }

    /// The envelope's signed timestamp, parsed; nil when absent.
    public var signedTime: Date? {
        timestamp.flatMap(Timestamps.parse)
    }

    private struct Decoded: Decodable {
        let envelope: WebhookEnvelope

        init(from decoder: any Decoder) throws {
            let root = try decoder.container(keyedBy: AnyKey.self)
            guard root.contains(AnyKey("event")) else { throw EnvelopeError.missingEvent }
            guard let event = try? root.decode(String.self, forKey: AnyKey("event")), !event.isEmpty else {
                throw EnvelopeError.invalidField("event", "must be a non-empty string")
            }
            var sessionId: String?
            if root.contains(AnyKey("sessionId")), !((try? root.decodeNil(forKey: AnyKey("sessionId"))) ?? false) {
                guard let value = try? root.decode(String.self, forKey: AnyKey("sessionId")) else {
                    throw EnvelopeError.invalidField("sessionId", "must be a string")
                }
                sessionId = value
            }
            var timestamp: String?
            if root.contains(AnyKey("timestamp")), !((try? root.decodeNil(forKey: AnyKey("timestamp"))) ?? false) {
                guard let value = try? root.decode(String.self, forKey: AnyKey("timestamp")),
                      Timestamps.parse(value) != nil
                else {
                    throw EnvelopeError.invalidField("timestamp", "must be an ISO 8601 date-time")
                }
                timestamp = value
            }
            let data = root.object("data")
            let payload: Result<InboxEvent, PayloadError>
            do {
                payload = .success(try Self.decodeEvent(event, data: data))
            } catch {
                payload = .failure(error)
            }
            envelope = WebhookEnvelope(event: event, sessionId: sessionId, timestamp: timestamp, payload: payload)
        }

        private static func decodeEvent(_ event: String, data: KeyedDecodingContainer<AnyKey>?) throws(PayloadError) -> InboxEvent {
            switch event {
            case "message.received": return .messageReceived(try MessagePayload(from: data, event: event))
            case "message.sent": return .messageSent(try MessagePayload(from: data, event: event))
            case "message.ack": return .messageAck(try AckPayload(from: data))
            case "session.qr": return .sessionQR(try QRPayload(from: data))
            case "session.connected": return .sessionConnected(ConnectedPayload(from: data))
            case "session.disconnected": return .sessionDisconnected(DisconnectedPayload(from: data))
            default: return .other(event)
            }
        }
    }
}

/// Why a body is not a webhook envelope at all.
public enum EnvelopeError: Error, Sendable, Equatable {
    case malformedJSON
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
        case .malformedJSON: return "the body is not valid JSON"
        case .notAnObject: return "the body must be a JSON object"
        case .missingEvent: return "the body has no \"event\" field"
        case .invalidField(let name, let problem): return "\"\(name)\" \(problem)"
        }
    }
}
