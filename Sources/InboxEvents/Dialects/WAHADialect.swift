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
            var ack = AckPayload(messageId: id, keyId: SerializedId(id)?.key, ack: code, timestamp: payload.int("timestamp"))
            // A group member's own receipt; `message.ack` of a group message is the group's.
            if event == "message.ack.group" { ack.participant = payload.string("participant").map(JID.normalize) }
            return .messageAck(ack)
        case "message.reaction":
            guard let payload, let reaction = payload.object("reaction"),
                  let target = reaction.string("messageId"), !target.isEmpty
            else { throw PayloadError("message.reaction has no payload.reaction.messageId") }
            return .reaction(ReactionPayload(target: MessageRef(id: target), reactor: actor(payload), emoji: reaction.string("text"),
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
        case "group.v2.join", "group.v2.update", "group.v2.leave", "group.v2.participants":
            guard let payload else { throw PayloadError("\(event) has no payload object") }
            return .groupUpdated(try groupUpdate(event, payload: payload))
        case "poll.vote":
            guard let payload, let poll = payload.object("poll")?.string("id"), !poll.isEmpty, let vote = payload.object("vote") else {
                throw PayloadError("poll.vote has no payload.poll.id or payload.vote")
            }
            let voter = actor(vote)
            var options: [String] = []
            if case .array(let chosen)? = vote["selectedOptions"] { options = chosen.compactMap(\.stringValue) }
            return .pollVotes(PollVotesPayload(pollKey: SerializedId(poll)?.key ?? poll,
                                               votes: [.init(voter: voter, options: options)], isComplete: false,
                                               time: seconds(vote["timestamp"])))
        case "presence.update":
            let chat = payload?.string("id") ?? "?"
            var states: [String] = []
            if case .array(let presences)? = payload?["presences"] {
                states = presences.compactMap { $0.string("lastKnownPresence") }
            }
            return .sessionNotice(.presence(chat: chat, states: states))
        case "engine.event":
            return .sessionNotice(SessionNotice(summary: "Engine event: \(payload?.string("event") ?? "unknown")"))
        case "chat.archive":
            let archived = payload?.bool("archived") == true ? "archived" : "unarchived"
            return .sessionNotice(SessionNotice(summary: "Chat \(payload?.string("id") ?? "?") \(archived)"))
        case "call.received", "call.accepted", "call.rejected":
            return .sessionNotice(SessionNotice(summary: "Call from \(payload?.string("from") ?? "?"): \(event.dropFirst(5))",
                                                time: seconds(payload?["timestamp"])))
        case "poll.vote.failed":
            // WAHA could not decrypt the vote: the poll and the voter are known, the choice is not.
            let voter = payload?.object("vote")?.string("from") ?? "?"
            return .sessionNotice(SessionNotice(summary: "A vote by \(voter) in poll \(payload?.object("poll")?.string("id") ?? "?") could not be read"))
        case "label.upsert", "label.deleted", "label.chat.added", "label.chat.deleted", "state.change", "event.response",
             "event.response.failed", "message.waiting":
            return .sessionNotice(SessionNotice(summary: event))
        default:
            return .other(event)
        }
    }

    /// Who reacted or voted: `me` for the business, else the group member or the sender.
    private static func actor(_ object: JSONValue) -> String {
        if object.bool("fromMe") == true { return "me" }
        return (object.string("participant") ?? object.string("from")).map(JID.normalize) ?? "unknown"
    }

    /// `group.v2.*`: `payload.group` with what changed; `participants` lists only the members a
    /// `group.v2.participants` event is about.
    private static func groupUpdate(_ event: String, payload: JSONValue) throws(PayloadError) -> GroupPayload {
        guard let info = payload.object("group"), let id = info.string("id"), !id.isEmpty else {
            throw PayloadError("\(event) has no payload.group.id")
        }
        var group = GroupPayload(group: JID.normalize(id))
        group.subject = info.string("subject")
        group.description = info.string("description")
        group.time = seconds(payload["timestamp"])
        func members(_ value: JSONValue?) -> [GroupMember]? {
            guard case .array(let list)? = value else { return nil }
            return list.compactMap { member in
                guard let id = member.string("id"), !id.isEmpty else { return nil }
                let role = member.string("role").map { $0 == "participant" ? "member" : $0 }
                return GroupMember(id: JID.normalize(id), alternate: (member.string("pn") ?? member.string("lid")).map(JID.normalize),
                                   role: role == "left" ? nil : role)
            }
        }
        switch event {
        case "group.v2.participants":
            guard let action = GroupPayload.MemberChange(word: payload.string("type")) else {
                throw PayloadError("group.v2.participants has unknown type \(payload.string("type") ?? "none")")
            }
            group.change = (action, members(payload["participants"]) ?? [])
        case "group.v2.leave":
            group.left = true
        default:
            group.members = members(info["participants"])
        }
        return group
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
        // NOWEB passes Baileys' key (`remoteJidAlt`, `participantAlt`), GOWS whatsmeow's `Info`
        // (`SenderAlt`, `RecipientAlt`): the other identifier of the chat or the author.
        if let data = payload.object("_data") {
            let key = data.object("key")
            let info = data.object("Info")
            let isGroup = message.remote.map(JID.isGroup) ?? false
            let peerAlt = isGroup ? nil : (fromMe ? info?.string("RecipientAlt") : info?.string("SenderAlt"))
            let chatAlt = key?.string("remoteJidAlt") ?? key?.string("senderPn") ?? peerAlt
            let authorAlt = key?.string("participantAlt") ?? (isGroup ? info?.string("SenderAlt") : nil)
            message.identityLinks = [
                IdentityLink.between(message.remote, chatAlt.map(JID.normalize)),
                IdentityLink.between(message.author, authorAlt.map(JID.normalize)),
            ].compactMap { $0 }
        }
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
        // NOWEB passes Baileys' `verifiedBizName` for a verified business sender.
        if !fromMe, let sender = message.author ?? message.remote,
           let name = ContactName(identifier: sender, name: payload.object("_data")?.string("verifiedBizName"), source: .verifiedBusiness) {
            message.names.append(name)
        }
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
