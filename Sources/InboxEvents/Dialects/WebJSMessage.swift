import Foundation

/// whatsapp-web.js message objects: Inbox Hub's `data` and WAHA's payload (whose WEBJS engine adds
/// the library's raw `_data`). The type is `type` or `_data.type` (`chat`, `image`, `ptt`,
/// `location`, `vcard` …); the file is described by `media` and `_data`.
enum WebJSMessage {
    /// Fills kind, media, location, shared contacts and polls from `data`.
    static func describe(_ data: JSONValue, into message: inout MessagePayload) {
        let raw = data.object("_data")
        message.gatewayType = message.gatewayType ?? raw?.string("type")
        let media = data.object("media")
        let mime = media?.string("mimetype") ?? raw?.string("mimetype")
        var kind = MessageKind(gatewayType: message.gatewayType)
        if message.gatewayType == nil, message.hasMedia == true || media != nil {
            kind = Self.kind(ofMime: mime)
        }
        if kind.isMedia {
            var info = MediaInfo(kind: kind)
            info.mimeType = mime
            info.fileName = media?.string("filename") ?? raw?.string("filename")
            info.url = media?.string("url")
            info.sizeBytes = raw?.int("size")
            info.sha256 = raw?.string("filehash")
            info.width = raw?.int("width")
            info.height = raw?.int("height")
            info.durationSeconds = raw?.int("duration")
            info.isAnimated = raw?.bool("isGif") ?? raw?.bool("isAnimated")
            message.media = info
            message.hasMedia = true
        }
        switch kind {
        case .location:
            let location = data.object("location")
            let latitude = location?["latitude"] ?? raw?["lat"], longitude = location?["longitude"] ?? raw?["lng"]
            let name = location?.string("name") ?? location?.string("description") ?? raw?.string("loc")
            message.content = .compactObject([
                ("latitude", latitude), ("longitude", longitude), ("name", .text(name)),
                ("address", location?["address"]), ("url", location?["url"]),
            ])
            message.body = ContentText.location(name: name, address: location?.string("address"), url: location?.string("url"),
                                                latitude: latitude, longitude: longitude)
        case .contacts:
            var cards: [String] = []
            if case .array(let list)? = data["vCards"] { cards = list.compactMap(\.stringValue) }
            if cards.isEmpty, let single = raw?.string("body"), single.hasPrefix("BEGIN:VCARD") { cards = [single] }
            message.content = .object([("contacts", .array(cards.map { .object([("vcard", .string($0))]) }))])
            message.body = ContentText.contacts(ContentText.vCardNames(cards))
        case .poll:
            var options: [String] = []
            if case .array(let list)? = raw?["pollOptions"] { options = list.compactMap { $0.string("name") } }
            let question = raw?.string("pollName") ?? message.body
            message.content = .compactObject([("question", .text(question)), ("options", .array(options.map(JSONValue.string)))])
            message.body = ContentText.poll(question: question, options: options)
        default:
            break
        }
        message.kind = kind
    }

    /// A file's kind from its MIME type, when the gateway names no type.
    static func kind(ofMime mime: String?) -> MessageKind {
        guard let mime = mime?.lowercased() else { return .document }
        if mime.hasPrefix("image/webp") { return .sticker }
        if mime.hasPrefix("image/") { return .image }
        if mime.hasPrefix("video/") { return .video }
        if mime.hasPrefix("audio/") { return .audio }
        return .document
    }
}
