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

    static let mediaKinds = ["imageMessage", "videoMessage", "audioMessage", "documentMessage", "stickerMessage",
                             "documentWithCaptionMessage", "ptvMessage"]

    static let ackCodes: [String: AckCode] = [
        "ERROR": .error, "PENDING": .pending, "SERVER_ACK": .server, "DELIVERY_ACK": .delivered, "READ": .read, "PLAYED": .played,
    ]

    private static func decode(_ event: String, data: JSONValue?) throws(PayloadError) -> InboxEvent {
        switch event {
        case "messages.upsert", "send.message":
            guard let data else { throw PayloadError("\(event) has no data object") }
            return try self.message(data, event: event)
        case "messages.update":
            guard let data else { throw PayloadError("\(event) has no data object") }
            // v2 sends `keyId`; v1 spread the message key into data (`id`, `remoteJid`, `fromMe`).
            guard let key = data.string("keyId") ?? data.string("id"), !key.isEmpty else {
                throw PayloadError("messages.update has no data.keyId (nor data.id)")
            }
            guard let status = data.string("status"), let code = ackCodes[status] else {
                return .other("messages.update.\(data.string("status") ?? "none")")  // DELETED: messages.delete says it
            }
            return .messageAck(AckPayload(messageId: key, keyId: key, ack: code, timestamp: nil))
        case "messages.edited":
            // The protocol message itself: an edit, or a deletion (REVOKE) sent through the same hook.
            guard let data, let change = BaileysContent.protocolChange(data) else {
                throw PayloadError("messages.edited has no data.key.id")
            }
            return inboxEvent(for: change, reactor: "me", time: data.int("timestampMs").map { $0 / 1000 })
        case "messages.delete":
            guard let key = data?.string("id"), !key.isEmpty else { throw PayloadError("messages.delete has no data.id") }
            return .messageDeleted(DeletionPayload(target: MessageRef(id: key, key: key), time: nil))
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

    /// A reaction, edit or deletion carried by Baileys content.
    private static func inboxEvent(for change: BaileysContent.Change, reactor: String, time: Int64?) -> InboxEvent {
        switch change {
        case .reaction(let target, let emoji, let reactionTime):
            return .reaction(ReactionPayload(target: MessageRef(id: target, key: target), reactor: reactor, emoji: emoji,
                                             time: reactionTime ?? time))
        case .edit(let target, let text):
            return .messageEdited(EditPayload(target: MessageRef(id: target, key: target), body: text, time: time))
        case .revoke(let target):
            return .messageDeleted(DeletionPayload(target: MessageRef(id: target, key: target), time: time))
        }
    }

    private static func message(_ data: JSONValue, event: String) throws(PayloadError) -> InboxEvent {
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
        let author = JID.isGroup(chat) ? (key.string("participantAlt") ?? key.string("participant")).map(JID.normalize) : nil
        let timestamp = data.int("messageTimestamp")
        let content = data.object("message")
        if let content, let change = BaileysContent.change(content) {
            return inboxEvent(for: change, reactor: fromMe ? "me" : (author ?? chat), time: timestamp)
        }
        var message = MessagePayload(messageId: "\(fromMe)_\(chat)_\(id)", waKeyId: id, chat: chat, fromMe: fromMe)
        message.lid = lid
        message.author = author
        message.gatewayType = data.string("messageType")
        if let content {
            BaileysContent.decode(content, into: &message)
            // Evolution's own copy of the file (S3/MinIO), when it keeps one.
            if let stored = data.string("mediaUrl") ?? content.string("mediaUrl"), message.media != nil { message.media?.url = stored }
        } else {
            message.kind = MessageKind(gatewayType: message.gatewayType)
        }
        message.hasMedia = message.media != nil
        MessagePayload.labelCaptionlessMedia(&message)
        message.timestamp = timestamp
        let nested = ["extendedTextMessage"] + mediaKinds
        message.quotedMsgId = data.object("contextInfo")?.string("stanzaId")
            ?? nested.lazy.compactMap { content?.object($0)?.object("contextInfo")?.string("stanzaId") }.first
        if !fromMe { message.displayName = data.string("pushName") }
        return fromMe ? .messageSent(message) : .messageReceived(message)
    }
}
