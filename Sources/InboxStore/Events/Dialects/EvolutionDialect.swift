import Foundation

/// Evolution API v2: `{"event", "instance", "data", "destination", "date_time", "sender", …}`;
/// sessions are `evolution:<instance>`. The body's `event` decides what a delivery is (the
/// by-events path suffix is not trusted). Message ids are built as `<fromMe>_<chat>_<key.id>`
/// with the normalised chat (the phone JID for a lid chat when known): the same serialized form
/// as WAHA and Inbox Hub.
enum EvolutionDialect {
    static func envelope(_ document: JSONParser.Document, body: [UInt8]) throws(EnvelopeError) -> WebhookEnvelope {
        let root = document.value
        let event = try WebhookEnvelope.requiredString("event", in: root)
        let session = Provider.evolution.sessionId(try WebhookEnvelope.requiredString("instance", in: root))
        let data = root.object("data")
        let decoded: Result<[RoutedEvent], PayloadError>
        do {
            let inboxEvent = try decode(event, data: data)
            decoded = .success([RoutedEvent(session: nil, event: inboxEvent, dataJSON: WebhookEnvelope.member("data", of: document, body: body))])
        } catch {
            decoded = .failure(error)
        }
        // `date_time` is local wall-clock time labelled UTC (a known quirk): not used for freshness.
        return WebhookEnvelope(provider: .evolution, event: event, sessionId: session, signedTime: nil, payload: decoded)
    }

    static let ackCodes: [String: AckCode] = [
        "ERROR": .error, "PENDING": .pending, "SERVER_ACK": .server, "DELIVERY_ACK": .delivered, "READ": .read, "PLAYED": .played,
    ]

    private static func decode(_ event: String, data: JSONValue?) throws(PayloadError) -> InboxEvent {
        switch event {
        case "messages.upsert", "send.message":
            guard let data else { throw PayloadError("\(event) has no data object") }
            let message = try self.message(data, event: event)
            return message.fromMe == true ? .messageSent(message) : .messageReceived(message)
        case "messages.update":
            guard let data else { throw PayloadError("\(event) has no data object") }
            guard let key = data.string("keyId"), !key.isEmpty else { throw PayloadError("messages.update has no data.keyId") }
            guard let status = data.string("status"), let code = ackCodes[status] else {
                return .other("messages.update.\(data.string("status") ?? "none")")  // DELETED: nothing to apply
            }
            return .messageAck(AckPayload(messageId: key, keyId: key, ack: code, timestamp: nil))
        case "connection.update":
            let phone = data?.string("wuid").map(JID.normalize).flatMap(JID.digits)
            switch data?.string("state") {
            case "connecting": return .sessionPending(eventTime: nil)
            case "open": return .sessionConnected(ConnectedPayload(phoneNumber: phone, eventTime: nil))
            case "close", "refused":
                let reason = data?.string("statusReason").map { "\(data?.string("state") ?? "close") (\($0))" } ?? data?.string("state")
                return .sessionDisconnected(DisconnectedPayload(reason: reason, eventTime: nil))
            default: return .other("connection.update")
            }
        case "qrcode.updated":
            guard let image = data?.object("qrcode")?.string("base64"), !image.isEmpty else { return .other(event) }
            return .sessionQR(QRPayload(qrCode: image, eventTime: nil))
        default:
            return .other(event)
        }
    }

    static let mediaKinds = ["imageMessage", "videoMessage", "audioMessage", "documentMessage", "stickerMessage",
                             "documentWithCaptionMessage", "ptvMessage"]

    private static func message(_ data: JSONValue, event: String) throws(PayloadError) -> MessagePayload {
        guard let key = data.object("key") else { throw PayloadError("\(event) has no data.key") }
        guard let id = key.string("id"), !id.isEmpty else { throw PayloadError("\(event) has no data.key.id") }
        guard let remote = key.string("remoteJid"), !remote.isEmpty else { throw PayloadError("\(event) has no data.key.remoteJid") }
        let fromMe = event == "send.message" || (key.bool("fromMe") ?? false)
        var chat = JID.normalize(remote)
        var lid: String?
        if JID.isLID(chat) {
            lid = chat
            if let phone = key.string("remoteJidAlt") ?? key.string("senderPn") ?? data.string("senderPn") {
                chat = JID.normalize(phone)
            }
        }
        var message = MessagePayload(messageId: "\(fromMe)_\(chat)_\(id)", waKeyId: id, chat: chat, fromMe: fromMe)
        message.lid = lid
        if JID.isGroup(chat), let participant = key.string("participantAlt") ?? key.string("participant") {
            message.author = JID.normalize(participant)
        }
        let content = data.object("message")
        message.body = content?.string("conversation") ?? content?.object("extendedTextMessage")?.string("text")
            ?? mediaKinds.lazy.compactMap { content?.object($0)?.string("caption") }.first
        message.type = data.string("messageType")
        message.hasMedia = mediaKinds.contains(message.type ?? "") || mediaKinds.contains { content?.object($0) != nil }
        message.timestamp = data.int("messageTimestamp")
        let nested = ["extendedTextMessage"] + mediaKinds
        message.quotedMsgId = data.object("contextInfo")?.string("stanzaId")
            ?? nested.lazy.compactMap { content?.object($0)?.object("contextInfo")?.string("stanzaId") }.first
        if !fromMe { message.displayName = data.string("pushName") }
        return message
    }
}
