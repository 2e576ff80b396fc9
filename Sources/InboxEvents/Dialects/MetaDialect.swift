import Foundation

/// Meta WhatsApp Cloud API: `{"object":"whatsapp_business_account","entry":[{"changes":[{"field",
/// "value":{"metadata","contacts","messages","statuses"}}]}]}`. One POST may batch many entries,
/// changes, messages and statuses: every one becomes a routed event of session
/// `meta:<phone_number_id>`.
enum MetaDialect {
    static func envelope(_ document: JSONParser.Document, body: [UInt8]) throws(EnvelopeError) -> WebhookEnvelope {
        let root = document.value
        let object = try WebhookEnvelope.requiredString("object", in: root)
        guard case .array(let entries)? = root["entry"] else { throw .invalidField("entry", "must be an array") }
        var events: [RoutedEvent] = []
        var firstField: String?
        var firstSession: String?
        var failure: PayloadError?
        for entry in entries {
            guard case .array(let changes)? = entry["changes"] else { continue }
            let account = entry.string("id")
            for change in changes {
                // Never an empty name: it becomes `webhook_deliveries.event` (found by the fuzzer).
                let field = change.string("field").flatMap { $0.isEmpty ? nil : $0 } ?? "unknown"
                firstField = firstField ?? field
                guard field == "messages" || field == "smb_message_echoes", let value = change.object("value") else {
                    // Account-wide fields (account, template, quality updates…): a readable event of the
                    // account's sessions; the number's own fields name it in `metadata`.
                    let fieldValue = change.object("value")
                    let notice = MetaNotices.notice(field: field, value: fieldValue, entryTime: entry.int("time"))
                    let phoneNumberId = fieldValue?.object("metadata")?.string("phone_number_id")
                    events.append(RoutedEvent(session: phoneNumberId.map(Provider.meta.sessionId), event: .sessionNotice(notice),
                                              dataJSON: change.serialized, account: account))
                    continue
                }
                guard let phoneNumberId = value.object("metadata")?.string("phone_number_id"), !phoneNumberId.isEmpty else {
                    failure = failure ?? PayloadError("a \(field) change has no value.metadata.phone_number_id")
                    continue
                }
                let session = Provider.meta.sessionId(phoneNumberId)
                firstSession = firstSession ?? session
                let phone = value.object("metadata")?.string("display_phone_number")
                events.append(RoutedEvent(session: session, event: .sessionSeen(phoneNumber: phone, account: account),
                                          dataJSON: Array("{}".utf8)))
                let names = contactNames(value)
                let links = identityLinks(value)
                var valueErrors: [JSONValue] = []
                if case .array(let errors)? = value["errors"] { valueErrors = errors }
                // `message_echoes`: what the business sent from the WhatsApp Business app (coexistence).
                for (member, echo) in [("messages", false), ("message_echoes", true)] {
                    guard case .array(let messages)? = value[member] else { continue }
                    for message in messages {
                        do {
                            let event = try self.message(message, names: names, links: links, echo: echo, valueErrors: valueErrors)
                            events.append(RoutedEvent(session: session, event: event, dataJSON: message.serialized))
                        } catch {
                            failure = failure ?? error
                        }
                    }
                }
                if case .array(let statuses)? = value["statuses"] {
                    for status in statuses {
                        do {
                            events.append(RoutedEvent(session: session, event: try self.status(status), dataJSON: status.serialized))
                        } catch {
                            failure = failure ?? error
                        }
                    }
                }
            }
        }
        return WebhookEnvelope(
            provider: .meta, event: firstField ?? object, sessionId: firstSession, signedTime: nil,
            payload: failure.map { .failure($0) } ?? .success(events)
        )
    }

    /// `contacts[].wa_id` and `user_id` → `profile.name`.
    private static func contactNames(_ value: JSONValue) -> [String: String] {
        guard case .array(let contacts)? = value["contacts"] else { return [:] }
        var names: [String: String] = [:]
        for contact in contacts {
            guard let name = contact.object("profile")?.string("name") else { continue }
            for id in [contact.string("wa_id"), contact.string("user_id")].compactMap({ $0 }) { names[id] = name }
        }
        return names
    }

    /// `contacts[]` with both a phone (`wa_id`) and a business-scoped user id (`user_id`, its
    /// parent, a username): all one person.
    private static func identityLinks(_ value: JSONValue) -> [String: [IdentityLink]] {
        guard case .array(let contacts)? = value["contacts"] else { return [:] }
        var links: [String: [IdentityLink]] = [:]
        for contact in contacts {
            let ids = [contact.string("wa_id"), contact.string("user_id"), contact.string("parent_user_id"),
                       contact.object("profile")?.string("username").map { $0.hasPrefix("@") ? $0 : "@" + $0 }]
                .compactMap { $0 }.filter { !$0.isEmpty }
            guard let primary = ids.first else { continue }
            let found = ids.dropFirst().compactMap { IdentityLink.between(userJID(primary), userJID($0)) }
            for id in ids { links[id, default: []] += found }
        }
        return links
    }

    /// A user's JID: phone digits become `<digits>@c.us`; a business-scoped user id (`US.1349…`,
    /// sent instead of the phone since 2026 usernames) is kept as it is.
    static func userJID(_ raw: String) -> String {
        raw.contains(".") || raw.hasPrefix("@") ? raw : JID.normalize(raw)
    }

    /// One `messages[]` item (incoming), or one `message_echoes[]` item (`echo`: sent by the
    /// business from the WhatsApp Business app, `to` the customer).
    private static func message(
        _ message: JSONValue, names: [String: String], links: [String: [IdentityLink]], echo: Bool, valueErrors: [JSONValue]
    )
        throws(PayloadError) -> InboxEvent
    {
        guard let id = message.string("id"), !id.isEmpty else { throw PayloadError("a Meta message has no id") }
        // Since 2026 a user with a username may come without a phone, only a business-scoped user id.
        let peerField = echo ? "to" : "from"
        guard let peerRaw = message.string(peerField) ?? message.string(peerField + "_user_id"), !peerRaw.isEmpty else {
            throw PayloadError("Meta message \(id) has no \(peerField) (nor \(peerField)_user_id)")
        }
        let peer = userJID(peerRaw)
        let group = message.string("group_id").map { $0.contains("@") ? $0 : $0 + "@g.us" }
        let chat = group ?? peer
        let type = message.string("type") ?? "unknown"
        let time = message.int("timestamp")
        switch type {
        case "reaction":
            guard let target = message.object("reaction")?.string("message_id"), !target.isEmpty else {
                throw PayloadError("Meta reaction \(id) has no reaction.message_id")
            }
            return .reaction(ReactionPayload(target: MessageRef(id: target, key: target), reactor: echo ? "me" : peer,
                                             emoji: message.object("reaction")?.string("emoji"), time: time))
        case "edit":
            guard let edit = message.object("edit"), let target = edit.string("original_message_id"), !target.isEmpty else {
                throw PayloadError("Meta edit \(id) has no edit.original_message_id")
            }
            var edited = MessagePayload(messageId: target, waKeyId: target, chat: chat, fromMe: echo)
            if let inner = edit.object("message") { describe(inner, type: inner.string("type") ?? "text", errors: [], into: &edited) }
            return .messageEdited(EditPayload(target: MessageRef(id: target, key: target), body: edited.body, time: time))
        case "revoke":
            guard let target = message.object("revoke")?.string("original_message_id"), !target.isEmpty else {
                throw PayloadError("Meta revoke \(id) has no revoke.original_message_id")
            }
            return .messageDeleted(DeletionPayload(target: MessageRef(id: target, key: target), time: time))
        default:
            break
        }
        var payload = MessagePayload(messageId: id, waKeyId: id, chat: chat, fromMe: echo)
        payload.from = echo ? nil : peer
        payload.to = echo ? peer : nil
        payload.author = group == nil || echo ? nil : peer
        payload.timestamp = time
        var errors = valueErrors
        if case .array(let own)? = message["errors"] { errors = own }
        describe(message, type: type, errors: errors, into: &payload)
        if let context = message.object("context") {
            payload.quotedMsgId = context.string("id")
            payload.isForwarded = (context.bool("forwarded") ?? false) || (context.bool("frequently_forwarded") ?? false)
        }
        if !echo { payload.displayName = names[peerRaw] }
        payload.identityLinks = links[peerRaw] ?? []
        let userId = message.string(peerField + "_user_id")
        if let link = IdentityLink.between(peer, userId.map(userJID)) { payload.identityLinks.append(link) }
        if type == "system", let system = message.object("system") {
            // The customer's new number or user id: the old and the new one are one person.
            switch system.string("type") {
            case "user_changed_number":
                if let link = IdentityLink.between(peer, system.string("wa_id").map(JID.normalize), reason: .numberChanged) {
                    payload.identityLinks.append(link)
                }
            case "user_changed_user_id":
                if let link = IdentityLink.between(userId ?? peer, system.string("user_id"), reason: .userIdChanged) {
                    payload.identityLinks.append(link)
                }
            default:
                break
            }
        }
        return echo ? .messageSent(payload) : .messageReceived(payload)
    }

    static let mediaTypes: Set<String> = ["image", "video", "document", "sticker", "audio"]

    /// The kind, readable text, file and typed content of a message object with its `type`.
    private static func describe(_ message: JSONValue, type: String, errors: [JSONValue], into payload: inout MessagePayload) {
        payload.gatewayType = type
        let content = message.object(type)
        var kind = MessageKind(gatewayType: type)
        var typed: [(String, JSONValue)] = []
        switch type {
        case "text":
            payload.body = content?.string("body")
        case _ where mediaTypes.contains(type):
            if type == "audio", content?.bool("voice") == true { kind = .voice }
            var media = MediaInfo(kind: kind)
            media.mimeType = content?.string("mime_type")
            media.fileName = content?.string("filename")
            media.sha256 = content?.string("sha256")
            media.gatewayMediaId = content?.string("id")
            media.url = content?.string("url")
            media.isAnimated = content?.bool("animated")
            payload.media = media
            payload.hasMedia = true
            payload.body = content?.string("caption")
        case "location":
            typed = content.map(Self.members) ?? []
            payload.body = ContentText.location(
                name: content?.string("name"), address: content?.string("address"), url: content?.string("url"),
                latitude: content?["latitude"], longitude: content?["longitude"]
            )
        case "contacts":
            let cards = message["contacts"] ?? .array([])
            typed = [("contacts", cards)]
            var names: [String] = []
            if case .array(let list) = cards {
                names = list.compactMap { $0.object("name")?.string("formatted_name") }
                // A shared card names the people on it: a name for their contacts, the weakest source.
                for card in list {
                    guard case .array(let phones)? = card["phones"] else { continue }
                    for phone in phones {
                        if let name = ContactName(identifier: phone.string("wa_id").map(JID.normalize),
                                                  name: card.object("name")?.string("formatted_name"), source: .sharedCard) {
                            payload.names.append(name)
                        }
                    }
                }
            }
            payload.body = ContentText.contacts(names)
        case "interactive":
            let subtype = content?.string("type")
            if let reply = content?.object("button_reply") ?? content?.object("list_reply") ?? content?.object("nfm_reply") {
                typed = [("interactive_type", content?["type"] ?? .null)] + Self.members(reply)
                payload.body = reply.string("title") ?? reply.string("description") ?? reply.string("body") ?? reply.string("name")
            } else if let subtype, let reply = content?.object(subtype) {
                // Other replies (e.g. `call_permission_reply`): kept as they are, read as their kind and answer.
                typed = [("interactive_type", .string(subtype))] + Self.members(reply)
                let answer = reply.string("response") ?? reply.string("title") ?? reply.string("body")
                payload.body = "💬 " + subtype.replacingOccurrences(of: "_", with: " ") + (answer.map { ": \($0)" } ?? "")
            }
        case "button":
            typed = content.map(Self.members) ?? []
            payload.body = content?.string("text") ?? content?.string("payload")
        case "order":
            typed = content.map(Self.members) ?? []
            var count: Int64?
            if case .array(let items)? = content?["product_items"] { count = Int64(items.count) }
            payload.body = ContentText.order(itemCount: count, text: content?.string("text"))
        case "system":
            typed = content.map(Self.members) ?? []
            payload.body = content?.string("body")
        default:
            if let content { typed = Self.members(content) }
        }
        // Meta flags what it could not deliver (`unsupported`, a failed interactive reply) with an error.
        if let error = errors.first {
            typed += [("error_code", error["code"] ?? .null), ("error_title", error["title"] ?? .null)]
            typed.append(("error_details", error.object("error_data")?["details"] ?? .null))
            if payload.body?.isEmpty ?? true { payload.body = ContentText.unsupported(error.string("title")) }
        }
        if let referral = message.object("referral") { typed.append(("referral", referral)) }
        if kind == .unsupported, payload.body?.isEmpty ?? true { payload.body = ContentText.unsupported(nil) }
        typed = typed.filter { $0.1 != .null }
        payload.content = typed.isEmpty ? nil : .object(typed)
        payload.kind = kind
        MessagePayload.labelCaptionlessMedia(&payload)
    }

    private static func members(_ object: JSONValue) -> [(String, JSONValue)] {
        if case .object(let members) = object { return members }
        return []
    }

    private static func status(_ status: JSONValue) throws(PayloadError) -> InboxEvent {
        guard let id = status.string("id"), !id.isEmpty else { throw PayloadError("a Meta status has no id") }
        let code: AckCode
        switch status.string("status") {
        case "sent": code = .server
        case "delivered": code = .delivered
        case "read": code = .read
        case "played": code = .played
        case "failed": code = .error
        default: return .other("status.\(status.string("status") ?? "unknown")")
        }
        var ack = AckPayload(messageId: id, keyId: id, ack: code, timestamp: status.int("timestamp"))
        ack.participant = status.string("recipient_participant_id").map(userJID)
        if let recipient = status.string("recipient_id") ?? status.string("recipient_user_id") {
            ack.createsOutgoingMessageTo = status.string("recipient_type") == "group"
                ? (recipient.contains("@") ? recipient : recipient + "@g.us")
                : (recipient.contains(".") ? recipient : JID.normalize(recipient))
        }
        if case .array(let errors)? = status["errors"], let first = errors.first {
            ack.errorCode = first.int("code")
            ack.errorTitle = first.string("title")
        }
        return .messageAck(ack)
    }
}
