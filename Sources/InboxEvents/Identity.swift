import Foundation

/// What kind of identifier names a person (or a group) on WhatsApp. One person can be seen under
/// several: a phone JID, a privacy id (`@lid`), Meta's business-scoped user id (BSUID, since the
/// 2026 usernames) and its parent, a username.
public enum IdentityKind: String, Sendable, CaseIterable {
    case phone
    case bsuid
    case parentBSUID = "parent_bsuid"
    case lid
    case username
    case group
    case other

    public init(of identifier: String) {
        if identifier.hasSuffix("@c.us") { self = .phone }
        else if identifier.hasSuffix("@lid") { self = .lid }
        else if identifier.hasSuffix("@g.us") { self = .group }
        else if identifier.hasPrefix("@") { self = .username }
        else if identifier.contains(".ENT.") { self = .parentBSUID }
        else if Self.looksLikeBSUID(identifier) { self = .bsuid }
        else { self = .other }
    }

    /// Which identifier a merged contact is filed under (its `whatsapp_id`, the chat of its
    /// conversation): the phone when known — what a CRM matches on, and what older rows already
    /// use —, then the BSUID, then the privacy id. Lower is preferred.
    public var preference: Int {
        switch self {
        case .phone: return 0
        case .bsuid: return 1
        case .lid: return 2
        case .group: return 3
        case .username: return 4
        case .parentBSUID: return 5
        case .other: return 6
        }
    }

    /// `CC.<alphanumerics>`: a country code, a dot, and up to 128 letters and digits.
    static func looksLikeBSUID(_ text: String) -> Bool {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 2, parts[0].allSatisfy(\.isUppercase),
              !parts[1].isEmpty, parts[1].count <= 128 else { return false }
        return parts[1].allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }
    }
}

/// Two identifiers an event shows to be one person (Evolution's `remoteJid` and `remoteJidAlt`,
/// Meta's `wa_id` and `user_id`, an old and a new number). The store merges the contacts they
/// name, whichever it saw first.
public struct IdentityLink: Sendable, Equatable {
    public enum Reason: String, Sendable {
        /// The gateway gave both identifiers of the sender (phone and `@lid`, phone and BSUID).
        case sameSender = "same_sender"
        /// Meta `system` `user_changed_number`: `first` is the old number, `second` the new one.
        case numberChanged = "number_changed"
        /// Meta `system` `user_changed_user_id`: `first` is the old BSUID, `second` the new one.
        case userIdChanged = "user_id_changed"
    }

    public var first: String
    public var second: String
    public var reason: Reason

    public init(_ first: String, _ second: String, reason: Reason = .sameSender) {
        self.first = first
        self.second = second
        self.reason = reason
    }

    /// A link between a known identifier and an optional other spelling of it; nil when there
    /// is nothing to link.
    static func between(_ identifier: String?, _ other: String?, reason: Reason = .sameSender) -> IdentityLink? {
        guard let identifier, let other, !identifier.isEmpty, !other.isEmpty, identifier != other else { return nil }
        return IdentityLink(identifier, other, reason: reason)
    }
}

/// Where a name shown for a contact came from. A contact keeps one name per source; the one
/// displayed is the most preferred source that has one.
public enum NameSource: String, Sendable, CaseIterable {
    /// The business's own address book, as the gateway synced it (Evolution `contacts.upsert` `name`).
    case addressBook = "address_book"
    /// What the person calls themself: WhatsApp's push name / Meta's profile name.
    case profile
    /// A verified business name WhatsApp shows for a business contact.
    case verifiedBusiness = "verified_business"
    /// The name a group's participant list carries.
    case groupParticipant = "group_participant"
    /// A name from a contact card someone shared.
    case sharedCard = "shared_card"

    /// Lower is preferred.
    public var precedence: Int {
        switch self {
        case .addressBook: return 0
        case .profile: return 1
        case .verifiedBusiness: return 2
        case .groupParticipant: return 3
        case .sharedCard: return 4
        }
    }
}

/// A name an event gives for an identifier.
public struct ContactName: Sendable, Equatable {
    public var identifier: String
    public var name: String
    public var source: NameSource

    public init?(identifier: String?, name: String?, source: NameSource) {
        guard let identifier, !identifier.isEmpty,
              let name = name?.trimmingCharacters(in: .whitespacesAndNewlines), !name.isEmpty else { return nil }
        self.identifier = identifier
        self.name = name
        self.source = source
    }
}
