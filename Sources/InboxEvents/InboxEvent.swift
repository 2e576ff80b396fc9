import Foundation

/// A webhook event InboxLite knows how to apply, whatever gateway sent it: each dialect decodes
/// its own payloads into these, and one set of rules (`EventApplier`) files them into the tables.
public enum InboxEvent: Sendable, Equatable {
    case messageReceived(MessagePayload)
    case messageSent(MessagePayload)
    case messageAck(AckPayload)
    /// A reaction to a stored message (an empty emoji removes it): never a message of its own.
    case reaction(ReactionPayload)
    /// A message's text or caption replaced by its sender.
    case messageEdited(EditPayload)
    /// A message deleted for everyone: it stays as a tombstone without its text.
    case messageDeleted(DeletionPayload)
    /// Votes in a poll (WAHA `poll.vote`, Evolution `messages.update` with `pollUpdates`).
    case pollVotes(PollVotesPayload)
    /// Messages and chat names from a gateway's history sync (Evolution `messages.set`, `chats.set`):
    /// kept as backfilled, never unread.
    case historySynced(HistoryPayload)
    /// Names and identifiers of contacts, without a message (Evolution `contacts.*`).
    case contactsUpdated(ContactsPayload)
    /// A group's subject, description or members changed (WAHA `group.v2.*`, Evolution `groups.*`).
    case groupUpdated(GroupPayload)
    /// Something about the account or session worth keeping as a readable session event, that
    /// changes no row (Meta account, template and quality updates, WAHA engine events, presence).
    case sessionNotice(SessionNotice)
    case sessionQR(QRPayload)
    case sessionConnected(ConnectedPayload)
    case sessionDisconnected(DisconnectedPayload)
    /// The gateway is starting or connecting (WAHA `STARTING`, Evolution `connecting`).
    case sessionPending(eventTime: Date?)
    /// A gateway without session events (Meta) is connected whenever it delivers: the session row
    /// is created Connected with this phone number, and nothing else changes.
    /// `account` is the business account the number belongs to (Meta's WABA id, `entry.id`):
    /// account-wide events (template and account updates) are filed under its sessions.
    case sessionSeen(phoneNumber: String?, account: String?)
    /// An event this build does not apply (e.g. `conversation.created`): stored as `ignored`.
    case other(String)

    /// InboxLite's own name for what the event did (what the live stream sends); nil when it
    /// changes nothing worth streaming.
    public var kind: String? {
        switch self {
        case .messageReceived: return "message.received"
        case .messageSent: return "message.sent"
        case .messageAck: return "message.ack"
        case .reaction: return "message.reaction"
        case .messageEdited: return "message.edited"
        case .messageDeleted: return "message.deleted"
        case .pollVotes: return "poll.vote"
        case .historySynced: return "history.synced"
        case .contactsUpdated: return "contact.updated"
        case .groupUpdated: return "group.updated"
        case .sessionNotice: return "session.notice"
        case .sessionQR: return "session.qr"
        case .sessionConnected: return "session.connected"
        case .sessionDisconnected: return "session.disconnected"
        case .sessionPending: return "session.pending"
        case .sessionSeen, .other: return nil
        }
    }

    /// Inbox Hub: decodes an envelope's `data` for `event`; unknown events are `.other`.
    static func decode(_ event: String, data: JSONValue?) throws(PayloadError) -> InboxEvent {
        switch event {
        case "message.received": return .messageReceived(try MessagePayload(from: data, event: event))
        case "message.sent": return .messageSent(try MessagePayload(from: data, event: event))
        case "message.ack": return .messageAck(try AckPayload(from: data))
        case "session.qr": return .sessionQR(try QRPayload(from: data))
        case "session.connected": return .sessionConnected(ConnectedPayload(from: data))
        case "session.disconnected": return .sessionDisconnected(DisconnectedPayload(from: data))
        default: return .other(event)
        }
    }
}

/// One decoded event with where it belongs: a delivery carries one (Inbox Hub, WAHA, Evolution)
/// or many (a Meta batch).
public struct RoutedEvent: Sendable, Equatable {
    /// The InboxLite session id; nil means the delivery's own session.
    public var session: String?
    public var event: InboxEvent
    /// The gateway's object for this event, stored as `messages.data` / `session_events.data`.
    public var dataJSON: [UInt8]
    /// For an account-wide event without a session (Meta's WABA-level fields): the account whose
    /// sessions it belongs to.
    public var account: String?

    public init(session: String?, event: InboxEvent, dataJSON: [UInt8], account: String? = nil) {
        self.session = session
        self.event = event
        self.dataJSON = dataJSON
        self.account = account
    }
}

/// Why a well-formed envelope cannot be applied. Kept as the delivery's `last_error`.
public struct PayloadError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// `message.received` / `message.sent` data (whatsapp-web.js message shape).
public struct MessagePayload: Sendable, Equatable {
    /// `data.id._serialized`: unique, the CRM's `message_id`.
    public var messageId: String
    /// `data.id.id`: the short key id that `message.ack` refers to.
    public var waKeyId: String?
    /// `data.id.remote`: the chat.
    public var remote: String?
    public var fromMe: Bool?
    public var from: String?
    public var to: String?
    public var author: String?
    /// The readable text: the message's text, a media caption, or words for content without
    /// text (`ContentText`).
    public var body: String?
    /// The gateway's own word for the message's type (`chat`, `imageMessage`, `text` …).
    public var gatewayType: String?
    /// The type in InboxLite's vocabulary; nil means "as `gatewayType` says".
    public var kind: MessageKind?
    /// A typed object for content that is more than text (location, contacts, replies, orders,
    /// referrals, the gateway's error for an unsupported message): `messages.content`.
    public var content: JSONValue?
    /// The file, for photos, videos, voice notes, audio, documents and stickers.
    public var media: MediaInfo?
    public var timestamp: Int64?
    /// Flags are nil when the payload leaves them out, so a re-delivery that lacks one never
    /// overwrites what an earlier delivery stored.
    public var hasMedia: Bool?
    public var isForwarded: Bool?
    public var isStatus: Bool?
    public var quotedMsgId: String?
    /// The sender's push name when the payload carries one (`notifyName`, `_data.notifyName`…).
    public var displayName: String?
    /// An ack code some gateways include on the message itself.
    public var ack: Int64?
    /// Identifiers the event shows to be the same person as the chat or the author (a phone JID
    /// and its `@lid`, a phone and a BSUID).
    public var identityLinks: [IdentityLink] = []
    /// Names the event gives besides the sender's push name (people on a shared contact card).
    public var names: [ContactName] = []
    /// From a history sync rather than as it happened: never unread.
    public var backfilled = false

    /// A message decoded by a gateway dialect (or made up by the store for a Meta status whose
    /// outgoing message it never saw).
    public init(messageId: String, waKeyId: String?, chat: String, fromMe: Bool) {
        self.messageId = messageId
        self.waKeyId = waKeyId
        self.remote = chat
        self.fromMe = fromMe
    }

    /// The chat JID: the other party for one-to-one chats, the group for group chats.
    public func chat(outgoing: Bool) -> String? {
        if let remote, !remote.isEmpty { return remote }
        return outgoing ? to : from
    }

    /// `messages.type`: one vocabulary whatever the gateway.
    public var messageKind: MessageKind {
        kind ?? media?.kind ?? MessageKind(gatewayType: gatewayType)
    }

    /// True for status updates (`status@broadcast`), which are kept but are not a conversation.
    public var isStatusBroadcast: Bool {
        isStatus == true || remote == "status@broadcast" || from == "status@broadcast" || to == "status@broadcast"
    }

    init(from data: JSONValue?, event: String) throws(PayloadError) {
        guard let data else { throw PayloadError("\(event) has no data object") }
        // The documented id object is required: a message is never filed under a key made up
        // from other fields, which a later delivery of the same message could not find again.
        guard let id = data.object("id") else {
            throw PayloadError("\(event) has no data.id object")
        }
        guard case .string(let serialized)? = id["_serialized"], !serialized.isEmpty else {
            throw PayloadError("\(event) has no data.id._serialized")
        }
        messageId = serialized
        waKeyId = id.string("id")
        remote = id.string("remote")
        fromMe = id.bool("fromMe")
        if let explicit = data.bool("fromMe") { fromMe = explicit }
        from = data.string("from")
        to = data.string("to")
        author = data.string("author")
        body = data.string("body")
        gatewayType = data.string("type")
        if let raw = data.int("timestamp") {
            timestamp = raw > 100_000_000_000 ? raw / 1000 : raw
        }
        hasMedia = data.bool("hasMedia")
        isForwarded = data.bool("isForwarded")
        isStatus = data.bool("isStatus")
        quotedMsgId = data.string("quotedMsgId")
        displayName = data.string("notifyName") ?? data.string("pushName") ?? data.string("pushname")
            ?? data.object("_data")?.string("notifyName")
        ack = data.int("ack")
        WebJSMessage.describe(data, into: &self)
        MessagePayload.labelCaptionlessMedia(&self)
    }

    /// A file without a caption reads as what it is ("📷 Photo", "📄 invoice.pdf").
    static func labelCaptionlessMedia(_ message: inout MessagePayload) {
        guard let media = message.media, message.body?.isEmpty ?? true else { return }
        message.body = ContentText.media(media.kind, fileName: media.fileName)
    }
}

/// `message.ack` data.
public struct AckPayload: Sendable, Equatable {
    /// As sent: the short key id (`data.id.id`) per the guide, but a long id is matched too.
    public var messageId: String
    /// The bare WhatsApp key when `messageId` is a serialized id (WAHA group acks carry a
    /// participant suffix, so they match by key).
    public var keyId: String?
    public var ack: AckCode
    public var timestamp: Int64?
    /// Meta `failed` statuses: the first error's code and title.
    public var errorCode: Int64?
    public var errorTitle: String?
    /// The group member this receipt is for (WAHA `message.ack.group`, Meta
    /// `recipient_participant_id`): kept per member, besides the message's own status.
    public var participant: String?
    /// Meta sends no outgoing message, only statuses: a status for an unknown message creates the
    /// outgoing row (to this chat) instead of waiting in `pending_acks` for a message that never comes.
    public var createsOutgoingMessageTo: String?

    /// A receipt decoded by a gateway dialect.
    public init(messageId: String, keyId: String?, ack: AckCode, timestamp: Int64?) {
        self.messageId = messageId
        self.keyId = keyId
        self.ack = ack
        self.timestamp = timestamp
    }

    init(from data: JSONValue?) throws(PayloadError) {
        guard let data else { throw PayloadError("message.ack has no data object") }
        guard let reference = data.string("messageId") ?? data.object("id")?.string("_serialized")
            ?? data.string("id"), !reference.isEmpty
        else {
            throw PayloadError("message.ack has no data.messageId")
        }
        guard let code = data.int("ack") else { throw PayloadError("message.ack has no data.ack") }
        guard let ack = AckCode(rawValue: Int(code)) else {
            throw PayloadError("message.ack has unknown ack code \(code) (expected -1…4)")
        }
        messageId = reference
        self.ack = ack
        timestamp = data.int("timestamp")
    }

    /// The receipt's own time from the payload (unix seconds or milliseconds), if it has one.
    public var time: Date? {
        guard let timestamp, timestamp > 0 else { return nil }
        return Date(timeIntervalSince1970: timestamp > 100_000_000_000 ? Double(timestamp) / 1000 : Double(timestamp))
    }
}

/// `session.qr` data.
public struct QRPayload: Sendable, Equatable {
    /// The QR as a data URL; nil when the gateway does not send the image (WAHA).
    public var qrCode: String?
    public var expiresAt: Date?
    public var eventTime: Date?

    public init(qrCode: String?, eventTime: Date?) {
        self.qrCode = qrCode
        self.eventTime = eventTime
    }

    init(from data: JSONValue?) throws(PayloadError) {
        guard let qrCode = data?.string("qrCode") ?? data?.string("qr"), !qrCode.isEmpty else {
            throw PayloadError("session.qr has no data.qrCode")
        }
        self.qrCode = qrCode
        expiresAt = data?.string("expiresAt").flatMap(Timestamps.parse)
        eventTime = data?.string("timestamp").flatMap(Timestamps.parse)
    }
}

/// `session.connected` data.
public struct ConnectedPayload: Sendable, Equatable {
    public var phoneNumber: String?
    public var eventTime: Date?

    public init(phoneNumber: String?, eventTime: Date?) {
        self.phoneNumber = phoneNumber
        self.eventTime = eventTime
    }

    init(from data: JSONValue?) {
        phoneNumber = data?.string("phoneNumber")
        eventTime = data?.string("timestamp").flatMap(Timestamps.parse)
    }
}

/// `session.disconnected` data.
public struct DisconnectedPayload: Sendable, Equatable {
    public var reason: String?
    public var eventTime: Date?

    public init(reason: String?, eventTime: Date?) {
        self.reason = reason
        self.eventTime = eventTime
    }

    init(from data: JSONValue?) {
        reason = data?.string("reason")
        eventTime = data?.string("timestamp").flatMap(Timestamps.parse)
    }
}

/// How an event names the message it changes: the id as sent (full or bare) and the bare WhatsApp
/// key, matched against `messages.message_id` or `messages.wa_key_id` within the session.
public struct MessageRef: Sendable, Equatable {
    public var id: String
    public var key: String

    public init(id: String, key: String? = nil) {
        self.id = id
        self.key = key ?? SerializedId(id)?.key ?? id
    }
}

/// A reaction (Meta `reaction`, WAHA `message.reaction`, Evolution `reactionMessage`).
public struct ReactionPayload: Sendable, Equatable {
    public var target: MessageRef
    /// Who reacted: the person's JID, or `me` for the business.
    public var reactor: String
    /// nil when the reaction was removed (an empty or missing emoji).
    public var emoji: String?
    /// Unix seconds, when the event says.
    public var time: Int64?

    public init(target: MessageRef, reactor: String, emoji: String?, time: Int64?) {
        self.target = target
        self.reactor = reactor
        self.emoji = emoji.flatMap { $0.isEmpty ? nil : $0 }
        self.time = time
    }
}

/// An edit (Meta `edit`, WAHA `message.edited`, Evolution `messages.edited` / protocol edits).
public struct EditPayload: Sendable, Equatable {
    public var target: MessageRef
    /// The new text or caption.
    public var body: String?
    public var time: Int64?

    public init(target: MessageRef, body: String?, time: Int64?) {
        self.target = target
        self.body = body
        self.time = time
    }
}

/// A deletion for everyone (Meta `revoke`, WAHA `message.revoked`, Evolution `messages.delete`
/// and protocol REVOKE).
public struct DeletionPayload: Sendable, Equatable {
    public var target: MessageRef
    public var time: Int64?

    public init(target: MessageRef, time: Int64?) {
        self.target = target
        self.time = time
    }
}

/// Contacts' names and identifiers as a gateway's address-book events give them.
public struct ContactsPayload: Sendable, Equatable {
    public var names: [ContactName]
    public var links: [IdentityLink]

    public init(names: [ContactName], links: [IdentityLink]) {
        self.names = names
        self.links = links
    }
}

/// A member of a group as a group event lists them.
public struct GroupMember: Sendable, Equatable {
    /// The member's JID (phone or `@lid`).
    public var id: String
    /// The member's other identifier when the gateway gives it (the phone of a `@lid` member).
    public var alternate: String?
    /// `member`, `admin` or `superadmin`.
    public var role: String?
    public var name: String?

    public init(id: String, alternate: String? = nil, role: String? = nil, name: String? = nil) {
        self.id = id
        self.alternate = alternate
        self.role = role
        self.name = name
    }
}

/// What a group event says about the group.
public struct GroupPayload: Sendable, Equatable {
    public enum MemberChange: String, Sendable {
        case add, remove, promote, demote

        /// WAHA's `type` (join, leave, promote, demote) or Evolution's `action` (add, remove, …).
        init?(word: String?) {
            switch word {
            case "add", "join": self = .add
            case "remove", "leave": self = .remove
            case "promote": self = .promote
            case "demote": self = .demote
            default: return nil
            }
        }
    }

    public var group: String
    public var subject: String?
    public var description: String?
    /// The full member list, when the event carries it: it replaces the stored one.
    public var members: [GroupMember]?
    /// Members added, removed, promoted or demoted.
    public var change: (MemberChange, [GroupMember])?
    /// The business itself left or was removed.
    public var left = false
    /// Unix seconds, when the event says.
    public var time: Int64?

    public init(group: String) {
        self.group = group
    }

    public static func == (lhs: GroupPayload, rhs: GroupPayload) -> Bool {
        lhs.group == rhs.group && lhs.subject == rhs.subject && lhs.description == rhs.description
            && lhs.members == rhs.members && lhs.change?.0 == rhs.change?.0 && lhs.change?.1 == rhs.change?.1
            && lhs.left == rhs.left && lhs.time == rhs.time
    }
}

/// A readable account or session event that changes no row.
public struct SessionNotice: Sendable, Equatable {
    /// What happened, as a short phrase a person reads (`Template order_update approved`).
    public var summary: String
    /// Unix seconds, when the event says.
    public var time: Int64?

    public init(summary: String, time: Int64? = nil) {
        self.summary = summary
        self.time = time
    }

    /// Someone's presence in a chat (typing, recording, available…).
    static func presence(chat: String, states: [String]) -> SessionNotice {
        SessionNotice(summary: "Presence \(chat): \(states.isEmpty ? "unknown" : states.joined(separator: ", "))")
    }
}

/// Votes in one poll.
public struct PollVotesPayload: Sendable, Equatable {
    public struct Vote: Sendable, Equatable {
        /// The voter's JID, or `me`.
        public var voter: String
        /// The options chosen (none: the vote was taken back).
        public var options: [String]

        public init(voter: String, options: [String]) {
            self.voter = voter
            self.options = options
        }
    }

    /// The poll message's WhatsApp key.
    public var pollKey: String
    public var votes: [Vote]
    /// The gateway sent every vote of the poll (Evolution's aggregate): voters it leaves out have none.
    public var isComplete: Bool
    /// Unix seconds, when the event says.
    public var time: Int64?

    public init(pollKey: String, votes: [Vote], isComplete: Bool, time: Int64?) {
        self.pollKey = pollKey
        self.votes = votes
        self.isComplete = isComplete
        self.time = time
    }
}

/// A history sync batch.
public struct HistoryPayload: Sendable, Equatable {
    /// One message with its own object (`messages.data`).
    public struct Message: Sendable, Equatable {
        public var payload: MessagePayload
        public var dataJSON: [UInt8]
    }

    public var messages: [Message] = []
    /// Chat names the sync gives (a group's subject, a saved contact's name).
    public var chatNames: [ContactName] = []

    public init() {}
}
