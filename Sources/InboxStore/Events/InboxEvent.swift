import Foundation

/// A webhook event InboxLite knows how to apply, decoded from the envelope's `data`.
public enum InboxEvent: Sendable, Equatable {
    case messageReceived(MessagePayload)
    case messageSent(MessagePayload)
    case messageAck(AckPayload)
    case sessionQR(QRPayload)
    case sessionConnected(ConnectedPayload)
    case sessionDisconnected(DisconnectedPayload)
    /// An event this build does not apply (e.g. `conversation.created`): stored as `ignored`.
    case other(String)

    /// Decodes an envelope's `data` for `event`; unknown events are `.other`.
    static func decode(_ event: String, data: JSONValue?) throws(PayloadError) -> InboxEvent {
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

/// Why a well-formed envelope cannot be applied. Kept as the delivery's `last_error`.
public struct PayloadError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// `message.received` / `message.sent` data (whatsapp-web.js message shape).
public struct MessagePayload: Sendable, Equatable {
    /// `data.id._serialized`: unique, the CRM's `message_id`.
    public var messageId: String
    /// `data.id.id`: the short key id that `message.ack` refers to.
    public var waKeyId: String?
    /// `data.id.remote`: the chat.
    public var remote: String?
    public var fromMe: Bool?
    public var from: String?
    public var to: String?
    public var author: String?
    public var body: String?
    public var type: String?
    public var timestamp: Int64?
    /// Flags are nil when the payload leaves them out, so a re-delivery that lacks one never
    /// overwrites what an earlier delivery stored.
    public var hasMedia: Bool?
    public var isForwarded: Bool?
    public var isStatus: Bool?
    public var quotedMsgId: String?
    /// The sender's push name when the payload carries one (`notifyName`, `_data.notifyName`…).
    public var displayName: String?
    /// An ack code some gateways include on the message itself.
    public var ack: Int64?

    /// The chat JID: the other party for one-to-one chats, the group for group chats.
    public func chat(outgoing: Bool) -> String? {
        if let remote, !remote.isEmpty { return remote }
        return outgoing ? to : from
    }

    /// True for status updates (`status@broadcast`), which are kept but are not a conversation.
    public var isStatusBroadcast: Bool {
        isStatus == true || remote == "status@broadcast" || from == "status@broadcast" || to == "status@broadcast"
    }

    init(from data: JSONValue?, event: String) throws(PayloadError) {
        guard let data else { throw PayloadError("\(event) has no data object") }
        // The documented id object is required: a message is never filed under a key made up
        // from other fields, which a later delivery of the same message could not find again.
        guard let id = data.object("id") else {
            throw PayloadError("\(event) has no data.id object")
        }
        guard case .string(let serialized)? = id["_serialized"], !serialized.isEmpty else {
            throw PayloadError("\(event) has no data.id._serialized")
        }
        messageId = serialized
        waKeyId = id.string("id")
        remote = id.string("remote")
        fromMe = id.bool("fromMe")
        if let explicit = data.bool("fromMe") { fromMe = explicit }
        from = data.string("from")
        to = data.string("to")
        author = data.string("author")
        body = data.string("body")
        type = data.string("type")
        if let raw = data.int("timestamp") {
            timestamp = raw > 100_000_000_000 ? raw / 1000 : raw
        }
        hasMedia = data.bool("hasMedia")
        isForwarded = data.bool("isForwarded")
        isStatus = data.bool("isStatus")
        quotedMsgId = data.string("quotedMsgId")
        displayName = data.string("notifyName") ?? data.string("pushName") ?? data.string("pushname")
            ?? data.object("_data")?.string("notifyName")
        ack = data.int("ack")
    }
}

/// `message.ack` data.
public struct AckPayload: Sendable, Equatable {
    /// As sent: the short key id (`data.id.id`) per the guide, but a long id is matched too.
    public var messageId: String
    public var ack: AckCode
    public var timestamp: Int64?

    init(from data: JSONValue?) throws(PayloadError) {
        guard let data else { throw PayloadError("message.ack has no data object") }
        guard let reference = data.string("messageId") ?? data.object("id")?.string("_serialized")
            ?? data.string("id"), !reference.isEmpty
        else {
            throw PayloadError("message.ack has no data.messageId")
        }
        guard let code = data.int("ack") else { throw PayloadError("message.ack has no data.ack") }
        guard let ack = AckCode(rawValue: Int(code)) else {
            throw PayloadError("message.ack has unknown ack code \(code) (expected -1…4)")
        }
        messageId = reference
        self.ack = ack
        timestamp = data.int("timestamp")
    }

    /// The receipt's own time from the payload (unix seconds or milliseconds), if it has one.
    public var time: Date? {
        guard let timestamp, timestamp > 0 else { return nil }
        return Date(timeIntervalSince1970: timestamp > 100_000_000_000 ? Double(timestamp) / 1000 : Double(timestamp))
    }
}

/// `session.qr` data.
public struct QRPayload: Sendable, Equatable {
    public var qrCode: String
    public var expiresAt: Date?
    public var eventTime: Date?

    init(from data: JSONValue?) throws(PayloadError) {
        guard let qrCode = data?.string("qrCode") ?? data?.string("qr"), !qrCode.isEmpty else {
            throw PayloadError("session.qr has no data.qrCode")
        }
        self.qrCode = qrCode
        expiresAt = data?.string("expiresAt").flatMap(Timestamps.parse)
        eventTime = data?.string("timestamp").flatMap(Timestamps.parse)
    }
}

/// `session.connected` data.
public struct ConnectedPayload: Sendable, Equatable {
    public var phoneNumber: String?
    public var eventTime: Date?

    init(from data: JSONValue?) {
        phoneNumber = data?.string("phoneNumber")
        eventTime = data?.string("timestamp").flatMap(Timestamps.parse)
    }
}

/// `session.disconnected` data.
public struct DisconnectedPayload: Sendable, Equatable {
    public var reason: String?
    public var eventTime: Date?

    init(from data: JSONValue?) {
        reason = data?.string("reason")
        eventTime = data?.string("timestamp").flatMap(Timestamps.parse)
    }
}
