import Foundation

/// Baileys' message content object: Evolution's `data.message`, and `_data.message` from WAHA's
/// NOWEB and GOWS engines. One key names what the message is (`conversation`, `imageMessage`,
/// `locationMessage` …); wrappers (`ephemeralMessage`, `viewOnceMessage`,
/// `documentWithCaptionMessage`) hold the real content one level down.
enum BaileysContent {
    /// What a content object changes instead of being a message of its own.
    enum Change {
        case reaction(targetKey: String, emoji: String?, time: Int64?)
        case edit(targetKey: String, text: String?)
        case revoke(targetKey: String)
    }

    private static let wrappers = ["ephemeralMessage", "viewOnceMessage", "viewOnceMessageV2", "viewOnceMessageV2Extension",
                                   "documentWithCaptionMessage", "editedMessage"]
    private static let ignoredKeys: Set<String> = ["messageContextInfo", "senderKeyDistributionMessage", "base64", "mediaUrl"]

    /// The content with wrappers removed, and the key that names its kind.
    static func unwrap(_ content: JSONValue) -> (key: String, value: JSONValue)? {
        guard case .object(var members) = content else { return nil }
        for _ in 0..<4 {
            guard let wrapper = members.first(where: { wrappers.contains($0.0) }),
                  case .object(let inner)? = wrapper.1["message"]
            else { break }
            members = inner
        }
        guard let first = members.first(where: { !ignoredKeys.contains($0.0) }) else { return nil }
        return (first.0, first.1)
    }

    /// A reaction, edit or deletion carried as content (`reactionMessage`, `protocolMessage`).
    static func change(_ content: JSONValue) -> Change? {
        guard let (key, value) = unwrap(content) else { return nil }
        switch key {
        case "reactionMessage":
            guard let target = value.object("key")?.string("id"), !target.isEmpty else { return nil }
            let emoji = value.string("text").flatMap { $0.isEmpty ? nil : $0 }
            let time = value.int("senderTimestampMs").map { $0 / 1000 }
            return .reaction(targetKey: target, emoji: emoji, time: time)
        case "protocolMessage":
            return protocolChange(value)
        default:
            return nil
        }
    }

    /// A `protocolMessage` (also Evolution's `messages.edited` data): REVOKE (0) deletes its
    /// key's message for everyone, MESSAGE_EDIT (14) replaces its text.
    static func protocolChange(_ value: JSONValue) -> Change? {
        guard let target = value.object("key")?.string("id"), !target.isEmpty else { return nil }
        switch value["type"] {
        case .string("REVOKE")?, .integer(0)?:
            return .revoke(targetKey: target)
        case .string("MESSAGE_EDIT")?, .integer(14)?:
            let edited = value.object("editedMessage")
            return .edit(targetKey: target, text: edited.flatMap(text(of:)))
        default:
            // An edit without a type still carries editedMessage.
            if let edited = value.object("editedMessage") { return .edit(targetKey: target, text: text(of: edited)) }
            return nil
        }
    }

    /// The text or caption of a content object.
    static func text(of content: JSONValue) -> String? {
        guard let (key, value) = unwrap(content) else { return nil }
        switch key {
        case "conversation": return value.stringValue
        case "extendedTextMessage": return value.string("text")
        default: return value.string("caption") ?? value.string("text")
        }
    }

    /// Fills the kind, text, media and typed content of `message` from a content object.
    static func decode(_ content: JSONValue, into message: inout MessagePayload) {
        guard let (key, value) = unwrap(content) else { return }
        message.gatewayType = message.gatewayType ?? key
        var kind = MessageKind(gatewayType: key)
        switch key {
        case "conversation":
            message.body = value.stringValue
        case "extendedTextMessage":
            message.body = value.string("text")
        case "imageMessage", "videoMessage", "ptvMessage", "audioMessage", "documentMessage", "stickerMessage":
            if key == "audioMessage", value.bool("ptt") == true { kind = .voice }
            var media = MediaInfo(kind: kind)
            media.mimeType = value.string("mimetype")
            media.fileName = value.string("fileName")
            media.sizeBytes = integer(value["fileLength"])
            media.sha256 = value.string("fileSha256")
            media.url = value.string("url")
            media.width = value.int("width")
            media.height = value.int("height")
            media.durationSeconds = value.int("seconds")
            media.isAnimated = value.bool("isAnimated") ?? value.bool("gifPlayback")
            message.media = media
            message.body = value.string("caption")
        case "locationMessage", "liveLocationMessage":
            let latitude = value["degreesLatitude"], longitude = value["degreesLongitude"]
            message.content = .compactObject([
                ("latitude", latitude), ("longitude", longitude), ("name", value["name"]), ("address", value["address"]), ("url", value["url"]),
            ])
            message.body = ContentText.location(
                name: value.string("name"), address: value.string("address"), url: value.string("url"),
                latitude: latitude, longitude: longitude
            )
        case "contactMessage":
            let name = value.string("displayName")
            message.content = .object([("contacts", .array([.compactObject([("name", .text(name)), ("vcard", value["vcard"])])]))])
            message.body = ContentText.contacts([name].compactMap { $0 })
        case "contactsArrayMessage":
            guard case .array(let cards)? = value["contacts"] else { break }
            let entries = cards.map { JSONValue.compactObject([("name", $0["displayName"]), ("vcard", $0["vcard"])]) }
            message.content = .object([("contacts", .array(entries))])
            message.body = ContentText.contacts(cards.compactMap { $0.string("displayName") })
        case "listResponseMessage":
            message.content = .compactObject([("reply_id", value.object("singleSelectReply")?["selectedRowId"]),
                                              ("title", value["title"]), ("description", value["description"])])
            message.body = value.string("title") ?? value.string("description")
        case "buttonsResponseMessage", "templateButtonReplyMessage":
            let text = value.string("selectedDisplayText")
            message.content = .compactObject([("reply_id", value["selectedButtonId"] ?? value["selectedId"]), ("title", .text(text))])
            message.body = text
        case "interactiveResponseMessage":
            message.content = value
            message.body = value.object("body")?.string("text")
        case "pollCreationMessage", "pollCreationMessageV2", "pollCreationMessageV3":
            var options: [String] = []
            if case .array(let list)? = value["options"] { options = list.compactMap { $0.string("optionName") } }
            message.content = .compactObject([("question", value["name"]), ("options", .array(options.map(JSONValue.string)))])
            message.body = ContentText.poll(question: value.string("name"), options: options)
        case "orderMessage":
            message.content = value
            message.body = ContentText.order(itemCount: value.int("itemCount"), text: value.string("message") ?? value.string("orderTitle"))
        default:
            message.body = message.body ?? value.string("caption") ?? value.string("text")
            if kind == .unsupported { message.body = message.body ?? ContentText.unsupported(key) }
        }
        message.kind = kind
    }

    /// Baileys' 64-bit lengths arrive as a number, a string, or `{"low", "high", "unsigned"}`.
    static func integer(_ value: JSONValue?) -> Int64? {
        guard let value else { return nil }
        if let number = value.intValue { return number }
        if let low = value.int("low") {
            return (value.int("high") ?? 0) << 32 | (low & 0xFFFF_FFFF)
        }
        return nil
    }
}
