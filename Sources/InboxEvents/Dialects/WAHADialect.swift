import Foundation

/// WAHA: `{"id", "timestamp" (ms), "event", "session", "me", "payload", "engine"}`; sessions are
/// `waha:<session>`. `message` (incoming) and `message.any` (every message) are both subscribed
/// by many users: the same message id is one row either way.
enum WAHADialect {
    static func envelope(_ document: JSONParser.Document, body: [UInt8]) throws(EnvelopeError) -> WebhookEnvelope {
        let root = document.value
        let event = try WebhookEnvelope.requiredString("event", in: root)
        let session = Provider.waha.sessionId(try WebhookEnvelope.requiredString("session", in: root))
        var signedTime: Date?
        if let stamp = root["timestamp"], stamp != .null {
            guard let ms = stamp.intValue, ms > 0 else { throw .invalidField("timestamp", "must be milliseconds since the epoch") }
            signedTime = Date(timeIntervalSince1970: Double(ms) / 1000)
        }
        let payload = root.object("payload")
        let data = WebhookEnvelope.member("payload", of: document, body: body)
        let decoded: Result<[RoutedEvent], PayloadError>
        do {
            let inboxEvent = try decode(event, payload: payload, me: root.object("me"), time: signedTime)
            decoded = .success([RoutedEvent(session: nil, event: inboxEvent, dataJSON: data)])
        } catch {
            decoded = .failure(error)
        }
        return WebhookEnvelope(provider: .waha, event: event, sessionId: session, signedTime: signedTime, payload: decoded)
    }

    private static func decode(_ event: String, payload: JSONValue?, me: JSONValue?, time: Date?) throws(PayloadError) -> InboxEvent {
        switch event {
        case "message", "message.any":
            guard let payload else { throw PayloadError("\(event) has no payload object") }
            let message = try self.message(payload, event: event)
            return message.fromMe == true ? .messageSent(message) : .messageReceived(message)
        case "message.ack", "message.ack.group":
            guard let payload else { throw PayloadError("\(event) has no payload object") }
            guard let id = payload.string("id"), !id.isEmpty else { throw PayloadError("\(event) has no payload.id") }
            guard let raw = payload.int("ack"), let code = AckCode(rawValue: Int(raw)) else {
                throw PayloadError("\(event) has no ack code in -1…4")
            }
            return .messageAck(AckPayload(messageId: id, keyId: SerializedId(id)?.key, ack: code, timestamp: payload.int("timestamp")))
        case "message.reaction":
            guard let payload, let reaction = payload.object("reaction"),
                  let target = reaction.string("messageId"), !target.isEmpty
            else { throw PayloadError("message.reaction has no payload.reaction.messageId") }
            let fromMe = payload.bool("fromMe") ?? false
            let reactor = fromMe ? "me" : (payload.string("participant") ?? payload.string("from")).map(JID.normalize) ?? "unknown"
            return .reaction(ReactionPayload(target: MessageRef(id: target), reactor: reactor, emoji: reaction.string("text"),
                                             time: seconds(payload["timestamp"])))
        case "message.edited":
            // `payload.id` is the edit action's own id; the edited message is `editedMessageId` (a bare key).
            guard let payload, let target = payload.string("editedMessageId"), !target.isEmpty else {
                throw PayloadError("message.edited has no payload.editedMessageId")
            }
            return .messageEdited(EditPayload(target: MessageRef(id: target), body: payload.string("body"),
                                              time: seconds(payload["timestamp"])))
        case "message.revoked":
            // `after.id` is the revoke notification (not always the target); `revokedMessageId` is the target's key.
            guard let payload,
                  let target = payload.string("revokedMessageId") ?? payload.object("before")?.string("id"), !target.isEmpty
            else { throw PayloadError("message.revoked has no payload.revokedMessageId") }
            return .messageDeleted(DeletionPayload(target: MessageRef(id: target),
                                                   time: seconds(payload.object("after")?["timestamp"])))
        case "session.status":
            let status = payload?.string("status") ?? ""
            let eventTime = time
            switch status {
            case "STARTING": return .sessionPending(eventTime: eventTime)
            case "SCAN_QR_CODE": return .sessionQR(QRPayload(qrCode: nil, eventTime: eventTime))
            case "WORKING":
                let phone = me?.string("id").map(JID.normalize).flatMap(JID.digits)
                return .sessionConnected(ConnectedPayload(phoneNumber: phone, eventTime: eventTime))
            case "FAILED", "STOPPED": return .sessionDisconnected(DisconnectedPayload(reason: status, eventTime: eventTime))
            default: return .other("session.status.\(status)")
            }
        default:
            return .other(event)
        }
    }

    private static func message(_ payload: JSONValue, event: String) throws(PayloadError) -> MessagePayload {
        guard let id = payload.string("id"), !id.isEmpty else { throw PayloadError("\(event) has no payload.id") }
        let serialized = SerializedId(id)
        let fromMe = payload.bool("fromMe") ?? serialized?.fromMe ?? false
        let other = fromMe ? payload.string("to") : payload.string("from")
        guard let chatRaw = serialized?.chat ?? other, !chatRaw.isEmpty else { throw PayloadError("\(event) \(id) names no chat") }
        var message = MessagePayload(messageId: id, waKeyId: serialized?.key, chat: JID.normalize(chatRaw), fromMe: fromMe)
        message.from = payload.string("from").map(JID.normalize)
        message.to = payload.string("to").map(JID.normalize)
        message.author = payload.string("participant").map(JID.normalize)
        message.body = payload.string("body")
        message.gatewayType = payload.string("type")
        message.timestamp = seconds(payload["timestamp"])
        message.hasMedia = payload.bool("hasMedia")
        // NOWEB and GOWS pass Baileys' message through `_data.message`; WEBJS passes whatsapp-web.js's `_data`.
        if let content = payload.object("_data")?.object("message") {
            let caption = message.body
            BaileysContent.decode(content, into: &message)
            if let url = payload.object("media")?.string("url") { message.media?.url = url }
            if message.body?.isEmpty ?? true { message.body = caption }
        } else {
            WebJSMessage.describe(payload, into: &message)
        }
        MessagePayload.labelCaptionlessMedia(&message)
        message.quotedMsgId = payload.object("replyTo")?.string("id")
        if !fromMe {
            message.displayName = payload.object("_data")?.string("notifyName") ?? payload.object("_data")?.string("pushName")
        } else {
            message.ack = payload.int("ack")
        }
        return message
    }
}

/// Unix seconds from seconds or milliseconds, whole or fractional (WAHA's reactions send `1710481111.853`).
func seconds(_ value: JSONValue?) -> Int64? {
    value?.intValue.map { $0 > 100_000_000_000 ? $0 / 1000 : $0 }
}

/// `{fromMe}_{chat}_{key}` with an optional `_{participant}`: WAHA's and Inbox Hub's message ids.
struct SerializedId {
    let fromMe: Bool
    let chat: String
    let key: String

    init?(_ id: String) {
        let parts = id.split(separator: "_", maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count >= 3, parts[0] == "true" || parts[0] == "false", !parts[1].isEmpty, !parts[2].isEmpty else { return nil }
        fromMe = parts[0] == "true"
        chat = String(parts[1])
        key = String(parts[2])
    }
}
