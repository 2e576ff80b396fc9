import Foundation
import InboxStore

/// What the query API returns: each view writes itself with the table's column names.

public struct SessionView: JSONWritable, Equatable {
    public let sessionId: String
    public let provider: String
    public let status: String
    public let isConnected: Bool
    public let phoneNumber: String?
    public let hasQrCode: Bool
    public let qrExpiresAt: String?
    public let disconnectReason: String?
    public let statusChangedAt: String?
    public let lastEventAt: String?
    public let messageCount: Int
    public let conversationCount: Int
    public let createdAt: String
    public let updatedAt: String

    /// `last_event_at` reads the newest delivery through the (session_id, id) index: a max() over
    /// `received_at` scanned every delivery of the session (0.9 s at a million deliveries).
    static let columns = """
        s.id, s.session_id, s.status, s.is_connected, s.phone_number, s.qr_code IS NOT NULL, s.qr_expires_at,
        s.disconnect_reason, s.status_changed_at,
        (SELECT received_at FROM webhook_deliveries d WHERE d.session_id = s.session_id ORDER BY d.id DESC LIMIT 1),
        (SELECT COALESCE(sum(message_count), 0) FROM conversations c WHERE c.session_id = s.session_id),
        (SELECT count(*) FROM conversations c WHERE c.session_id = s.session_id),
        s.created_at, s.updated_at, s.provider
        """

    init(_ row: SQLiteRow) {
        sessionId = row.string(1) ?? ""
        provider = row.string(14) ?? ""
        status = row.string(2) ?? ""
        isConnected = row.bool(3)
        phoneNumber = row.string(4)
        hasQrCode = row.bool(5)
        qrExpiresAt = row.string(6)
        disconnectReason = row.string(7)
        statusChangedAt = row.string(8)
        lastEventAt = row.string(9)
        messageCount = row.int(10) ?? 0
        conversationCount = row.int(11) ?? 0
        createdAt = row.string(12) ?? ""
        updatedAt = row.string(13) ?? ""
    }
}

public struct ContactView: JSONWritable, Equatable {
    let id: Int64
    public let whatsappId: String
    public let sessionId: String
    public let phoneNumber: String?
    public let isGroup: Bool
    public let displayName: String?
    public let firstMessageAt: Int?
    public let firstMessageTime: String?
    public let lastMessageAt: Int?
    public let lastMessageTime: String?
    public let createdAt: String
    public let updatedAt: String
    public let lid: String?

    static let columns = """
        id, whatsapp_id, session_id, phone_number, is_group, display_name, first_message_at, first_message_time,
        last_message_at, last_message_time, created_at, updated_at, lid
        """

    init(_ row: SQLiteRow) {
        id = Int64(row.int(0) ?? 0)
        whatsappId = row.string(1) ?? ""
        sessionId = row.string(2) ?? ""
        phoneNumber = row.string(3)
        isGroup = row.bool(4)
        displayName = row.string(5)
        firstMessageAt = row.int(6)
        firstMessageTime = row.string(7)
        lastMessageAt = row.int(8)
        lastMessageTime = row.string(9)
        createdAt = row.string(10) ?? ""
        updatedAt = row.string(11) ?? ""
        lid = row.string(12)
    }
}

public struct MessageView: JSONWritable, Equatable {
    let id: Int64
    public let messageId: String
    public let waKeyId: String?
    public let sessionId: String
    public let contact: String
    public let fromMe: Bool
    public let author: String?
    public let body: String?
    public let type: String?
    public let timestamp: Int?
    public let messageTime: String?
    public let hasMedia: Bool
    public let isForwarded: Bool
    public let isStatus: Bool
    public let quotedMsgId: String?
    public let status: String
    public let ack: Int?
    public let ackAt: String?
    public let createdAt: String
    public let updatedAt: String
    public let ackReceivedAt: String?
    /// A highlighted excerpt, for search results only.
    public var snippet: String?

    static func columns(_ alias: String) -> String {
        ["id", "message_id", "wa_key_id", "session_id", "contact", "from_me", "author", "body", "type", "timestamp",
         "message_time", "has_media", "is_forwarded", "is_status", "quoted_msg_id", "status", "ack", "ack_at",
         "created_at", "updated_at", "ack_received_at"].map { "\(alias).\($0)" }.joined(separator: ", ")
    }

    /// How many columns `columns` selects: what follows them in a row starts here.
    static let columnCount = 21

    init(_ row: SQLiteRow, offset: Int = 0) {
        func at(_ index: Int) -> Int { offset + index }
        id = Int64(row.int(at(0)) ?? 0)
        messageId = row.string(at(1)) ?? ""
        waKeyId = row.string(at(2))
        sessionId = row.string(at(3)) ?? ""
        contact = row.string(at(4)) ?? ""
        fromMe = row.bool(at(5))
        author = row.string(at(6))
        body = row.string(at(7))
        type = row.string(at(8))
        timestamp = row.int(at(9))
        messageTime = row.string(at(10))
        hasMedia = row.bool(at(11))
        isForwarded = row.bool(at(12))
        isStatus = row.bool(at(13))
        quotedMsgId = row.string(at(14))
        status = row.string(at(15)) ?? ""
        ack = row.int(at(16))
        ackAt = row.string(at(17))
        createdAt = row.string(at(18)) ?? ""
        updatedAt = row.string(at(19)) ?? ""
        ackReceivedAt = row.string(at(20))
    }
}

public struct ConversationView: JSONWritable, Equatable {
    let id: Int64
    public let sessionId: String
    public let contact: String
    public let displayName: String?
    public let phoneNumber: String?
    public let isGroup: Bool
    public let lastActivityAt: Int
    public let lastActivityTime: String?
    public let messageCount: Int
    public let unreadCount: Int
    public let lastMessage: LastMessage

    public struct LastMessage: Sendable, Equatable {
        public let messageId: String
        public let bodyPreview: String?
        public let timestamp: Int?
        public let messageTime: String?
        public let fromMe: Bool
        public let status: String
    }

    static let columns = """
        c.id, c.session_id, c.contact, k.display_name, k.phone_number, COALESCE(k.is_group, 0), c.last_activity_at,
        c.last_activity_time, c.message_count, c.unread_count, m.message_id, substr(m.body, 1, 120), m.timestamp,
        m.message_time, m.from_me, m.status
        """

    init(_ row: SQLiteRow) {
        id = Int64(row.int(0) ?? 0)
        sessionId = row.string(1) ?? ""
        contact = row.string(2) ?? ""
        displayName = row.string(3)
        phoneNumber = row.string(4)
        isGroup = row.bool(5)
        lastActivityAt = row.int(6) ?? 0
        lastActivityTime = row.string(7)
        messageCount = row.int(8) ?? 0
        unreadCount = row.int(9) ?? 0
        lastMessage = LastMessage(
            messageId: row.string(10) ?? "", bodyPreview: row.string(11), timestamp: row.int(12),
            messageTime: row.string(13), fromMe: row.bool(14), status: row.string(15) ?? ""
        )
    }
}

public struct AckView: JSONWritable, Equatable {
    public let ack: Int
    public let status: String
    public let receivedAt: String
    /// The receipt's own time (from the payload when it had one, else its arrival).
    public let ackAt: String?
    /// Meta `failed` statuses: why.
    public var errorCode: Int? = nil
    public var errorTitle: String? = nil
}

public struct DeliveryView: JSONWritable, Equatable {
    public let id: Int64
    public let provider: String
    public let event: String
    public let inboxEvent: String?
    public let sessionId: String?
    public let bodySha256: String
    public let receivedAt: String
    public let status: String
    public let attempts: Int
    public let lastError: String?
    public let processingMs: Double?
    public let appliedAt: String?
    public let nextAttemptAt: String?
    /// When retention emptied the body; the row and hash stay.
    public let bodyRemovedAt: String?
    public var body: String?

    static func columns(includeBody: Bool) -> String {
        "id, event, session_id, body_sha256, received_at, status, attempts, last_error, processing_ms, applied_at, next_attempt_at, "
            + "body_removed_at, provider, inbox_event" + (includeBody ? ", body" : "")
    }

    init(_ row: SQLiteRow) {
        id = Int64(row.int(0) ?? 0)
        event = row.string(1) ?? ""
        sessionId = row.string(2)
        bodySha256 = row.string(3) ?? ""
        receivedAt = row.string(4) ?? ""
        status = row.string(5) ?? ""
        attempts = row.int(6) ?? 0
        lastError = row.string(7)
        processingMs = row.double(8)
        appliedAt = row.string(9)
        nextAttemptAt = row.string(10)
        bodyRemovedAt = row.string(11)
        provider = row.string(12) ?? ""
        inboxEvent = row.string(13)
        body = row.values.count > 14 && bodyRemovedAt == nil ? row.string(14) : nil
    }
}

extension SessionView {
    public func write(to json: inout JSONWriter) {
        json.object { json in
            json.field("session_id", sessionId); json.field("provider", provider); json.field("status", status)
            json.field("is_connected", isConnected)
            json.field("phone_number", phoneNumber); json.field("has_qr_code", hasQrCode)
            json.field("qr_expires_at", qrExpiresAt); json.field("disconnect_reason", disconnectReason)
            json.field("status_changed_at", statusChangedAt); json.field("last_event_at", lastEventAt)
            json.field("message_count", messageCount); json.field("conversation_count", conversationCount)
            json.field("created_at", createdAt); json.field("updated_at", updatedAt)
        }
    }
}

extension ContactView {
    public func write(to json: inout JSONWriter) {
        json.object { json in
            json.field("id", id); json.field("whatsapp_id", whatsappId); json.field("session_id", sessionId)
            json.field("phone_number", phoneNumber); json.field("is_group", isGroup); json.field("display_name", displayName)
            json.field("first_message_at", firstMessageAt); json.field("first_message_time", firstMessageTime)
            json.field("last_message_at", lastMessageAt); json.field("last_message_time", lastMessageTime)
            json.field("created_at", createdAt); json.field("updated_at", updatedAt); json.field("lid", lid)
        }
    }
}

extension MessageView {
    public func write(to json: inout JSONWriter) { write(to: &json, data: nil) }

    /// The message, with its stored `data` JSON when given (the detail endpoint).
    func write(to json: inout JSONWriter, data: String?) {
        json.object { json in
            json.field("id", id); json.field("message_id", messageId); json.field("wa_key_id", waKeyId)
            json.field("session_id", sessionId); json.field("contact", contact); json.field("from_me", fromMe)
            json.field("author", author); json.field("body", body); json.field("type", type)
            json.field("timestamp", timestamp); json.field("message_time", messageTime); json.field("has_media", hasMedia)
            json.field("is_forwarded", isForwarded); json.field("is_status", isStatus); json.field("quoted_msg_id", quotedMsgId)
            json.field("status", status); json.field("ack", ack); json.field("ack_at", ackAt)
            json.field("ack_received_at", ackReceivedAt); json.field("created_at", createdAt); json.field("updated_at", updatedAt); json.field("snippet", snippet)
            if let data { json.field("data", rawJSON: data) }
        }
    }
}

extension ConversationView {
    public func write(to json: inout JSONWriter) {
        json.object { json in
            json.field("id", id); json.field("session_id", sessionId); json.field("contact", contact)
            json.field("display_name", displayName); json.field("phone_number", phoneNumber); json.field("is_group", isGroup)
            json.field("last_activity_at", lastActivityAt); json.field("last_activity_time", lastActivityTime)
            json.field("message_count", messageCount); json.field("unread_count", unreadCount)
            json.key("last_message")
            json.object { json in
                json.field("message_id", lastMessage.messageId); json.field("body_preview", lastMessage.bodyPreview)
                json.field("timestamp", lastMessage.timestamp); json.field("message_time", lastMessage.messageTime)
                json.field("from_me", lastMessage.fromMe); json.field("status", lastMessage.status)
            }
        }
    }
}

extension AckView {
    public func write(to json: inout JSONWriter) {
        json.object { json in
            json.field("ack", ack); json.field("status", status); json.field("ack_at", ackAt)
            json.field("received_at", receivedAt); json.field("error_code", errorCode); json.field("error_title", errorTitle)
        }
    }
}

extension DeliveryView {
    public func write(to json: inout JSONWriter) {
        json.object { json in
            json.field("id", id); json.field("provider", provider); json.field("event", event)
            json.field("inbox_event", inboxEvent); json.field("session_id", sessionId); json.field("body_sha256", bodySha256); json.field("received_at", receivedAt); json.field("status", status)
            json.field("attempts", attempts); json.field("last_error", lastError); json.field("processing_ms", processingMs)
            json.field("applied_at", appliedAt); json.field("next_attempt_at", nextAttemptAt)
            json.field("body_removed_at", bodyRemovedAt); json.field("body", body)
        }
    }
}
