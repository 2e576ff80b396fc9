import Foundation

/// What a message is, in one vocabulary for every gateway: `messages.type`. The gateway's own word
/// (`chat`, `conversation`, `imageMessage`, `ptt` …) is kept beside it as `gateway_type`.
public enum MessageKind: String, Sendable, CaseIterable {
    case text, image, video, audio, voice, document, sticker, location, contacts, interactive, button, order, poll, system, unsupported

    /// The kinds whose message carries a file (a `message_media` row).
    public var isMedia: Bool {
        switch self {
        case .image, .video, .audio, .voice, .document, .sticker: return true
        default: return false
        }
    }

    /// The kind a gateway's own type name stands for: Meta's `type`, whatsapp-web.js / WAHA's
    /// `type`, Baileys / Evolution's `messageType` (or the content object's key). Unknown words
    /// are `unsupported`, never a guess. (Migration 0006 maps stored rows with the same table.)
    public init(gatewayType: String?) {
        guard let gatewayType else {
            self = .text
            return
        }
        self = Self.byGatewayType[gatewayType] ?? .unsupported
    }

    private static let byGatewayType: [String: MessageKind] = {
        var table: [String: MessageKind] = [:]
        func add(_ kind: MessageKind, _ names: String...) { for name in names { table[name] = kind } }
        add(.text, "text", "chat", "conversation", "extendedTextMessage")
        add(.image, "image", "imageMessage")
        add(.video, "video", "videoMessage", "ptvMessage", "gif")
        add(.audio, "audio", "audioMessage")
        add(.voice, "ptt", "voice")
        add(.document, "document", "documentMessage", "documentWithCaptionMessage")
        add(.sticker, "sticker", "stickerMessage")
        add(.location, "location", "locationMessage", "liveLocationMessage", "live_location")
        add(.contacts, "contacts", "vcard", "multi_vcard", "contactMessage", "contactsArrayMessage")
        add(.interactive, "interactive", "list_response", "buttons_response", "listResponseMessage",
            "buttonsResponseMessage", "interactiveResponseMessage")
        add(.button, "button", "template_button_reply", "templateButtonReplyMessage")
        add(.order, "order", "orderMessage", "product", "productMessage")
        add(.poll, "poll", "poll_creation", "pollCreationMessage", "pollCreationMessageV2", "pollCreationMessageV3")
        add(.system, "system", "e2e_notification", "notification", "notification_template", "gp2", "call_log",
            "protocol", "protocolMessage")
        return table
    }()
}

/// A message's file, as far as the gateway describes it: what a later download needs (Meta's media
/// id, WAHA's or Evolution's URL) and what a CRM shows before it. Stored as `message_media`.
public struct MediaInfo: Sendable, Equatable {
    public var kind: MessageKind
    public var mimeType: String?
    public var fileName: String?
    public var sizeBytes: Int64?
    /// As the gateway gives it (Meta and Baileys send base64).
    public var sha256: String?
    public var gatewayMediaId: String?
    public var url: String?
    public var width: Int64?
    public var height: Int64?
    public var durationSeconds: Int64?
    public var isAnimated: Bool?

    public init(kind: MessageKind) {
        self.kind = kind
    }
}
