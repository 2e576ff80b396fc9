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
            for change in changes {
                // Never an empty name: it becomes `webhook_deliveries.event` (found by the fuzzer).
                let field = change.string("field").flatMap { $0.isEmpty ? nil : $0 } ?? "unknown"
                firstField = firstField ?? field
                guard field == "messages", let value = change.object("value") else {
                    events.append(RoutedEvent(session: nil, event: .other(field), dataJSON: change.serialized))
                    continue
                }
                guard let phoneNumberId = value.object("metadata")?.string("phone_number_id"), !phoneNumberId.isEmpty else {
                    failure = failure ?? PayloadError("a messages change has no value.metadata.phone_number_id")
                    continue
                }
                let session = Provider.meta.sessionId(phoneNumberId)
                firstSession = firstSession ?? session
                let phone = value.object("metadata")?.string("display_phone_number")
                events.append(RoutedEvent(session: session, event: .sessionSeen(phoneNumber: phone), dataJSON: Array("{}".utf8)))
                let names = contactNames(value)
                if case .array(let messages)? = value["messages"] {
                    for message in messages {
                        do {
                            events.append(RoutedEvent(session: session, event: try self.message(message, names: names), dataJSON: message.serialized))
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

    /// `contacts[].wa_id` → `profile.name`.
    private static func contactNames(_ value: JSONValue) -> [String: String] {
        guard case .array(let contacts)? = value["contacts"] else { return [:] }
        var names: [String: String] = [:]
        for contact in contacts {
            if let id = contact.string("wa_id"), let name = contact.object("profile")?.string("name") { names[id] = name }
        }
        return names
    }

    static let mediaTypes: Set<String> = ["image", "video", "document", "sticker", "audio"]

    private static func message(_ message: JSONValue, names: [String: String]) throws(PayloadError) -> InboxEvent {
        guard let id = message.string("id"), !id.isEmpty else { throw PayloadError("a Meta message has no id") }
        // Since 2026 a user with a username may come without `from`, only a business-scoped user id.
        guard let from = message.string("from") ?? message.string("from_user_id"), !from.isEmpty else {
            throw PayloadError("Meta message \(id) has no from (nor from_user_id)")
        }
        let type = message.string("type") ?? "unknown"
        if ["reaction", "edit", "revoke", "unsupported", "system", "order"].contains(type) { return .other("message.\(type)") }
        let sender = from.contains(".") ? from : JID.normalize(from)
        let group = message.string("group_id").map { $0.contains("@") ? $0 : $0 + "@g.us" }
        var payload = MessagePayload(messageId: id, waKeyId: id, chat: group ?? sender, fromMe: false)
        payload.from = sender
        payload.author = group == nil ? nil : sender
        payload.type = type
        payload.timestamp = message.int("timestamp")
        let content = message.object(type)
        switch type {
        case "text": payload.body = content?.string("body")
        case "interactive":
            payload.body = content?.object("button_reply")?.string("title") ?? content?.object("list_reply")?.string("title")
        case "button": payload.body = content?.string("text")
        case "location": payload.body = content?.string("name") ?? content?.string("address")
        default: payload.body = content?.string("caption")
        }
        payload.hasMedia = mediaTypes.contains(type)
        if let context = message.object("context") {
            payload.quotedMsgId = context.string("id")
            payload.isForwarded = (context.bool("forwarded") ?? false) || (context.bool("frequently_forwarded") ?? false)
        }
        payload.displayName = names[from]
        return .messageReceived(payload)
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
