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
        let decoded: Result<[RoutedEvent], PayloadError>
        do {
            if event == "messages.set" || event == "chats.set" {
                decoded = .success([RoutedEvent(session: nil, event: .historySynced(try history(event, data: root["data"])), dataJSON: Array("{}".utf8))])
            } else if let groups = try groupEvents(event, data: root["data"]) {
                // One delivery may describe several groups: each is its own event, with its own object.
                decoded = .success(groups.map { RoutedEvent(session: nil, event: .groupUpdated($0.payload), dataJSON: $0.object.serialized) })
            } else {
                decoded = .success([RoutedEvent(session: nil, event: try decode(event, raw: root["data"]),
                                                dataJSON: WebhookEnvelope.member("data", of: document, body: body))])
            }
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

    /// `raw`: the body's `data` as sent (an object, or an array for the contact and chat events).
    private static func decode(_ event: String, raw: JSONValue?) throws(PayloadError) -> InboxEvent {
        let data = raw?.isObject == true ? raw : nil
        switch event {
        case "contacts.update", "contacts.upsert":
            return .contactsUpdated(contacts(raw))
        case "presence.update":
            var states: [String] = []
            if case .object(let presences)? = data?["presences"] {
                states = presences.compactMap { $0.1.string("lastKnownPresence") }
            }
            return .sessionNotice(.presence(chat: data?.string("id") ?? "?", states: states))
        case "chats.update", "chats.upsert", "chats.delete", "labels.edit", "labels.association", "call", "typebot.start",
             "typebot.change-status", "remove.instance", "logout.instance", "application.startup":
            var count = 1
            if case .array(let items)? = raw { count = items.count }
            return .sessionNotice(SessionNotice(summary: count == 1 ? event : "\(event) (\(count))"))
        case "messages.upsert", "send.message":
            guard let data else { throw PayloadError("\(event) has no data object") }
            return try self.message(data, event: event)
        case "messages.update":
            guard let data else { throw PayloadError("\(event) has no data object") }
            // v2 sends `keyId`; v1 spread the message key into data (`id`, `remoteJid`, `fromMe`).
            guard let key = data.string("keyId") ?? data.string("id"), !key.isEmpty else {
                throw PayloadError("messages.update has no data.keyId (nor data.id)")
            }
            // A vote changes `pollUpdates`, Evolution's tally of the whole poll (its status then reads DELETED).
            if case .array(let tally)? = data["pollUpdates"] {
                var options: [String: [String]] = [:]
                for option in tally {
                    guard let name = option.string("name"), case .array(let voters)? = option["voters"] else { continue }
                    for voter in voters.compactMap(\.stringValue) { options[JID.normalize(voter), default: []].append(name) }
                }
                let votes = options.keys.sorted().map { PollVotesPayload.Vote(voter: $0, options: options[$0] ?? []) }
                return .pollVotes(PollVotesPayload(pollKey: key, votes: votes, isComplete: true, time: nil))
            }
            guard let status = data.string("status"), let code = ackCodes[status] else {
                // Evolution labels an update without a receipt `DELETED` (a real deletion comes as
                // messages.delete): kept as a readable event, the message unchanged.
                return .sessionNotice(SessionNotice(summary: "Message \(key) changed (\(data.string("status") ?? "no status"))"))
            }
            return .messageAck(AckPayload(messageId: key, keyId: key, ack: code, timestamp: nil))
        case "messages.edited":
            // The protocol message itself: an edit, or a deletion (REVOKE) sent through the same hook.
            guard let data, let change = BaileysContent.protocolChange(data) else {
                throw PayloadError("messages.edited has no data.key.id")
            }
            return inboxEvent(for: change, reactor: "me", time: data.int("timestampMs").map { $0 / 1000 })
        case "messages.delete":
            // A deletion by the phone sends the message key itself (`id`); one through Evolution's own
            // API (2.2+) sends its stored row, whose `id` is Evolution's and `key.id` WhatsApp's.
            guard let key = data?.object("key")?.string("id") ?? data?.string("id"), !key.isEmpty else {
                throw PayloadError("messages.delete has no data.key.id (nor data.id)")
            }
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

    /// `contacts.update` / `contacts.upsert`: one object or an array of `{remoteJid, pushName}`.
    /// A `pushName` that is only the number (Evolution's fallback) is no name.
    private static func contacts(_ raw: JSONValue?) -> ContactsPayload {
        var items: [JSONValue] = []
        switch raw {
        case .array(let list)?: items = list
        case .object?: items = [raw!]
        default: break
        }
        var names: [ContactName] = []
        var links: [IdentityLink] = []
        for item in items {
            guard let remote = item.string("remoteJid").map(JID.normalize) else { continue }
            let user = remote.prefix { $0 != "@" }
            if let pushName = item.string("pushName"), pushName != user,
               let name = ContactName(identifier: remote, name: pushName, source: .profile) {
                names.append(name)
            }
            if let link = IdentityLink.between(remote, (item.string("remoteJidAlt") ?? item.string("lid")).map(JID.normalize)) {
                links.append(link)
            }
        }
        return ContactsPayload(names: names, links: links)
    }

    /// `groups.upsert` (full metadata), `groups.update` (what changed) and
    /// `group-participants.update`; nil for other events.
    private static func groupEvents(_ event: String, data: JSONValue?) throws(PayloadError) -> [(payload: GroupPayload, object: JSONValue)]? {
        func member(_ value: JSONValue) -> GroupMember? {
            if case .string(let id) = value { return id.isEmpty ? nil : GroupMember(id: JID.normalize(id)) }
            guard let id = value.string("id") ?? value.string("jid"), !id.isEmpty else { return nil }
            let role = value.string("admin") ?? "member"
            let alternate = value.string("phoneNumber") ?? value.string("lid")
            return GroupMember(id: JID.normalize(id), alternate: alternate.map(JID.normalize).flatMap { $0 == JID.normalize(id) ? nil : $0 },
                               role: role, name: value.string("name") ?? value.string("notify"))
        }
        func members(_ value: JSONValue?) -> [GroupMember]? {
            guard case .array(let list)? = value else { return nil }
            return list.compactMap(member)
        }
        switch event {
        case "groups.upsert", "groups.update":
            var items: [JSONValue] = []
            if case .array(let list)? = data { items = list } else if let data, case .object = data { items = [data] }
            var groups: [(GroupPayload, JSONValue)] = []
            for item in items {
                guard let id = item.string("id"), !id.isEmpty else { throw PayloadError("\(event) has a group without id") }
                var group = GroupPayload(group: JID.normalize(id))
                group.subject = item.string("subject")
                group.description = item.string("desc")
                group.members = members(item["participants"])
                group.time = item.int("subjectTime") ?? item.int("creation")
                groups.append((group, item))
            }
            return groups
        case "group-participants.update":
            guard let data, let id = data.string("id"), !id.isEmpty else { throw PayloadError("\(event) has no data.id") }
            guard let action = GroupPayload.MemberChange(word: data.string("action")) else {
                throw PayloadError("\(event) has unknown action \(data.string("action") ?? "none")")
            }
            var group = GroupPayload(group: JID.normalize(id))
            // Newer versions add `participantsData` with each member's phone and name.
            let detailed = members(data["participantsData"]) ?? []
            var changed = members(data["participants"]) ?? []
            for index in changed.indices {
                if let detail = detailed.first(where: { $0.id == changed[index].id }) {
                    changed[index].alternate = detail.alternate
                    changed[index].name = detail.name
                }
                if action == .add { changed[index].role = changed[index].role ?? "member" }
            }
            group.change = (action, changed)
            return [(group, data)]
        default:
            return nil
        }
    }

    /// `messages.set`: the history sync's messages, each as `messages.upsert` would send it;
    /// `chats.set`: the chats with their names. Reactions and protocol messages in a sync are left out.
    private static func history(_ event: String, data: JSONValue?) throws(PayloadError) -> HistoryPayload {
        var history = HistoryPayload()
        guard case .array(let items)? = data else { return history }
        for item in items {
            if event == "chats.set" {
                if let chat = item.string("remoteJid").map(JID.normalize),
                   let name = ContactName(identifier: chat, name: item.string("name"), source: .addressBook) {
                    history.chatNames.append(name)
                }
                continue
            }
            switch try self.message(item, event: event) {
            case .messageReceived(var message), .messageSent(var message):
                message.backfilled = true
                history.messages.append(.init(payload: message, dataJSON: item.serialized))
            default:
                continue
            }
        }
        return history
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
        // A chat addressed by `@lid` is filed under the phone when the key gives it (2.3.0–2.3.3
        // `senderPn`, 2.3.5+ `remoteJidAlt`), and the two are linked either way round.
        let addressed = JID.normalize(remote)
        let alternate = (key.string("remoteJidAlt") ?? key.string("senderPn") ?? data.string("senderPn")).map(JID.normalize)
        let chat = JID.isLID(addressed) ? (alternate ?? addressed) : addressed
        let participant = key.string("participant").map(JID.normalize)
        let participantAlt = key.string("participantAlt").map(JID.normalize)
        let author = JID.isGroup(chat) ? (participant.map(JID.isLID) == true ? participantAlt ?? participant : participant ?? participantAlt) : nil
        let timestamp = data.int("messageTimestamp")
        let content = data.object("message")
        if let content, let change = BaileysContent.change(content) {
            return inboxEvent(for: change, reactor: fromMe ? "me" : (author ?? chat), time: timestamp)
        }
        var message = MessagePayload(messageId: "\(fromMe)_\(chat)_\(id)", waKeyId: id, chat: chat, fromMe: fromMe)
        message.author = author
        message.identityLinks = [
            IdentityLink.between(addressed, alternate),
            IdentityLink.between(participant, participantAlt),
        ].compactMap { $0 }
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
