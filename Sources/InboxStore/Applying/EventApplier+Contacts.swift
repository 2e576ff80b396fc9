import Foundation
import InboxEvents

/// Contacts: one per person per session, whatever identifier an event names them by.
///
/// Every identifier a contact was seen with is a row of `contact_identities`; the contact is filed
/// under the most preferred one (`IdentityKind.preference`: phone, BSUID, @lid), which is its
/// `whatsapp_id` and the chat of its conversation and messages. When an event shows two
/// identifiers to be one person, their contacts merge (or the contact is refiled under the
/// better identifier): identities, names, messages and the conversation move to the contact that
/// remains, in the delivery's transaction, and `contact_merges` records it. Which contact remains
/// depends only on the identifiers, so any arrival order ends in the same rows.
extension EventApplier {
    /// A contact as identity resolution sees it.
    struct ContactRecord {
        let id: Int64
        let whatsappId: String
        let displayName: String?
        /// Which source `displayName` came from (nil: none recorded).
        let displaySource: NameSource?

        /// From a row selected as `id, whatsapp_id, display_name, display_name_source`.
        init(_ row: SQLRow) {
            id = Int64(row.int(0) ?? 0)
            whatsappId = row.string(1) ?? ""
            displayName = row.string(2)
            displaySource = row.string(3).flatMap(NameSource.init(rawValue:))
        }

        init(id: Int64, whatsappId: String, displayName: String?, displaySource: NameSource?) {
            self.id = id
            self.whatsappId = whatsappId
            self.displayName = displayName
            self.displaySource = displaySource
        }
    }

    /// A name as an event gives it: the name, its source, and the event's time (its own unix
    /// time when it has one, formatted only if the name is written: most messages repeat the
    /// name already shown).
    struct SeenName {
        let name: String
        let source: NameSource
        private let unixTime: Int64?
        private let delivery: Delivery

        /// As of `unixTime` (the event's own time) when given, else the delivery's time.
        init?(_ name: String?, source: NameSource, unixTime: Int64? = nil, delivery: Delivery) {
            guard let name, let trimmed = Self.trimmed(name) else { return nil }
            self.name = trimmed
            self.source = source
            self.unixTime = unixTime
            self.delivery = delivery
        }

        var seenAt: String {
            unixTime.map(Timestamps.iso(unixSeconds:)) ?? delivery.eventTimeText
        }

        /// Without surrounding white space; nil when nothing else is left. (Foundation's trimming
        /// showed in the writer's profile: most names need none.)
        static func trimmed(_ name: String) -> String? {
            guard let first = name.unicodeScalars.first, let last = name.unicodeScalars.last else { return nil }
            if !first.properties.isWhitespace && !last.properties.isWhitespace { return name }
            let inner = name.trimmingCharacters(in: .whitespacesAndNewlines)
            return inner.isEmpty ? nil : inner
        }
    }

    /// What caused a contact change: a delivery, or the upgrade of an existing database.
    struct Origin {
        let deliveryId: Int64?
        let now: String
    }

    /// The session's contact for `identifier`, if it has one.
    func contact(for identifier: String, session: String) throws -> ContactRecord? {
        try db.queryFirst(
            """
            SELECT c.id, c.whatsapp_id, c.display_name, c.display_name_source
            FROM contact_identities i JOIN contacts c ON c.id = i.contact_id
            WHERE i.session_id = ? AND i.identifier = ?
            """,
            session, identifier
        ).map(ContactRecord.init)
    }

    /// Files a message's chat or author: the contact `identifier` belongs to (created when new),
    /// its activity times widened to the message's, and the name the event gives recorded.
    /// Returns the contact as filed.
    @discardableResult
    func touchContact(_ identifier: String, session: String, timestamp: Int64?, now: String, name: SeenName? = nil) throws -> ContactRecord {
        let key = Self.contactKey(session, identifier)
        // A contact filed recently: one update by row id.
        if var contact = state.contacts.contact(key) {
            try db.write(Self.widenActivityById[db.dialect], timestamp, now, contact.id)
            if let name { contact = try record(name, for: contact) }
            return contact
        }
        // Otherwise one statement for a known contact: found through its identity, updated, and returned.
        if let row = try db.queryFirst(Self.widenActivityByIdentity[db.dialect], timestamp, now, session, identifier) {
            var contact = ContactRecord(row)
            state.contacts.remember(contact, as: key)
            if let name { contact = try record(name, for: contact) }
            return contact
        }
        let created = try createContact(identifier, session: session, timestamp: timestamp, now: now, name: name)
        state.contacts.remember(created, as: key)
        return created
    }

    /// A contact's activity widened to a message at unix time `?1`, updated at `?2`.
    private static let widenActivity = PerEngine { sql in
        """
        UPDATE contacts SET
            first_message_at = \(sql.least)(COALESCE(first_message_at, ?1), COALESCE(?1, first_message_at)),
            last_message_at = \(sql.greatest)(COALESCE(last_message_at, ?1), COALESCE(?1, last_message_at)),
            updated_at = ?2
        """
    }
    private static let widenActivityById = PerEngine { "\(widenActivity[$0]) WHERE id = ?3" }
    private static let widenActivityByIdentity = PerEngine {
        """
        \(widenActivity[$0]) WHERE id = (SELECT contact_id FROM contact_identities WHERE session_id = ?3 AND identifier = ?4)
        RETURNING id, whatsapp_id, display_name, display_name_source
        """
    }

    /// Per contact and source, the name of the newest event wins (`contact_names`).
    private static let newerNameWins = """
        ON CONFLICT (contact_id, source) DO UPDATE SET name = excluded.name, updated_at = excluded.updated_at
        WHERE excluded.updated_at > contact_names.updated_at
        """

    static func contactKey(_ session: String, _ identifier: String) -> String {
        session + "\u{1F}" + identifier
    }

    /// A new contact with its first identity (and name, shown at once).
    private func createContact(_ identifier: String, session: String, timestamp: Int64?, now: String, name: SeenName? = nil)
        throws -> ContactRecord
    {
        let kind = IdentityKind(of: identifier)
        let id = try db.insertReturningId(
            """
            INSERT INTO contacts (whatsapp_id, session_id, phone_number, is_group, display_name, display_name_source,
                first_message_at, last_message_at, created_at, updated_at, lid)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            identifier, session, Self.phoneNumber(of: identifier), kind == .group, name?.name, name?.source.rawValue,
            timestamp, timestamp, now, now, kind == .lid ? identifier : nil
        ).unwrapped()
        try addIdentity(identifier, to: id, session: session, now: now, isFirst: true)
        if let name {
            try db.write("INSERT INTO contact_names (contact_id, source, name, updated_at) VALUES (?, ?, ?, ?)",
                       id, name.source.rawValue, name.name, name.seenAt)
        }
        return ContactRecord(id: id, whatsappId: identifier, displayName: name?.name, displaySource: name?.source)
    }

    /// `isFirst`: the identifier the contact was just created with (its phone and lid columns are set).
    private func addIdentity(_ identifier: String, to contactId: Int64, session: String, now: String, isFirst: Bool = false) throws {
        let kind = IdentityKind(of: identifier)
        try db.write(
            "INSERT INTO contact_identities (contact_id, session_id, identifier, kind, first_seen_at) VALUES (?, ?, ?, ?, ?)",
            contactId, session, identifier, kind.rawValue, now
        )
        if isFirst { return }
        if kind == .lid {
            try db.write("UPDATE contacts SET lid = COALESCE(lid, ?) WHERE id = ?", identifier, contactId)
        }
        if let phone = Self.phoneNumber(of: identifier) {
            try db.write("UPDATE contacts SET phone_number = COALESCE(phone_number, ?) WHERE id = ?", phone, contactId)
        }
    }

    /// Two identifiers are one person: afterwards both name one contact, filed under the
    /// preferred identifier. Idempotent.
    func link(_ link: IdentityLink, session: String, origin: Origin) throws {
        let first = try contact(for: link.first, session: session)
        let second = try contact(for: link.second, session: session)
        switch (first, second) {
        case (nil, nil):
            let preferred = Self.prefers(link.second, over: link.first, reason: link.reason) ? link.second : link.first
            let other = preferred == link.first ? link.second : link.first
            let created = try createContact(preferred, session: session, timestamp: nil, now: origin.now)
            try addIdentity(other, to: created.id, session: session, now: origin.now)
        case (let known?, nil), (nil, let known?):
            let newcomer = first == nil ? link.first : link.second
            try addIdentity(newcomer, to: known.id, session: session, now: origin.now)
            if Self.prefers(newcomer, over: known.whatsappId, reason: link.newerSide == newcomer ? link.reason : .sameSender) {
                try refile(known, under: newcomer, session: session, reason: link.reason, origin: origin)
            }
        case (let a?, let b?) where a.id != b.id:
            let keepSecond = Self.prefers(b.whatsappId, over: a.whatsappId, reason: link.reason)
            try merge(keepSecond ? a : b, into: keepSecond ? b : a, session: session, reason: link.reason, origin: origin)
        default:
            return
        }
    }

    /// Whether `candidate` should be what a contact is filed under instead of `current`: a more
    /// preferred kind; for a changed number or user id the new one; otherwise the smaller, so
    /// the choice never depends on which arrived first.
    static func prefers(_ candidate: String, over current: String, reason: IdentityLink.Reason) -> Bool {
        let (new, old) = (IdentityKind(of: candidate).preference, IdentityKind(of: current).preference)
        if new != old { return new < old }
        if reason != .sameSender { return true }
        return candidate < current
    }

    /// The contact is filed under a better identifier it already has: its messages and
    /// conversation move with it.
    private func refile(_ contact: ContactRecord, under identifier: String, session: String, reason: IdentityLink.Reason,
                        origin: Origin) throws {
        state.contacts.forget()
        try db.write("UPDATE contacts SET whatsapp_id = ?, updated_at = ? WHERE id = ?", identifier, origin.now, contact.id)
        try moveChat(from: contact.whatsappId, to: identifier, session: session)
        try recordMerge(kept: contact.id, filedUnder: identifier, merged: contact.id, mergedWhatsappId: contact.whatsappId,
                        session: session, reason: reason, origin: origin)
    }

    /// `gone` is the same person as `kept`: everything of `gone` becomes `kept`'s, and `gone` is deleted.
    private func merge(_ gone: ContactRecord, into kept: ContactRecord, session: String, reason: IdentityLink.Reason,
                       origin: Origin) throws {
        state.contacts.forget()
        try db.write("UPDATE contact_identities SET contact_id = ? WHERE contact_id = ?", kept.id, gone.id)
        try db.write(
            """
            INSERT INTO contact_names (contact_id, source, name, updated_at)
            SELECT ?, source, name, updated_at FROM contact_names WHERE contact_id = ? AND true
            \(Self.newerNameWins)
            """,
            kept.id, gone.id
        )
        try db.write("DELETE FROM contact_names WHERE contact_id = ?", gone.id)
        try db.write(
            """
            UPDATE contacts SET
                phone_number = COALESCE(contacts.phone_number, g.phone_number), lid = COALESCE(contacts.lid, g.lid),
                first_message_at = \(db.dialect.least)(COALESCE(contacts.first_message_at, g.first_message_at),
                                       COALESCE(g.first_message_at, contacts.first_message_at)),
                last_message_at = \(db.dialect.greatest)(COALESCE(contacts.last_message_at, g.last_message_at),
                                      COALESCE(g.last_message_at, contacts.last_message_at)),
                created_at = \(db.dialect.least)(contacts.created_at, g.created_at), updated_at = ?
            FROM (SELECT phone_number, lid, first_message_at, last_message_at, created_at FROM contacts WHERE id = ?) AS g
            WHERE contacts.id = ?
            """,
            origin.now, gone.id, kept.id
        )
        try db.write("UPDATE contact_merges SET contact_id = ? WHERE contact_id = ?", kept.id, gone.id)
        try db.write("DELETE FROM contacts WHERE id = ?", gone.id)
        try refreshDisplayName(of: kept.id)
        try moveChat(from: gone.whatsappId, to: kept.whatsappId, session: session)
        try recordMerge(kept: kept.id, filedUnder: kept.whatsappId, merged: gone.id, mergedWhatsappId: gone.whatsappId,
                        session: session, reason: reason, origin: origin)
    }

    /// Moves a chat's messages and conversation to another chat id; two conversations become one,
    /// its counts computed again from its messages.
    private func moveChat(from old: String, to new: String, session: String) throws {
        guard old != new else { return }
        try db.write("UPDATE messages SET contact = ? WHERE session_id = ? AND contact = ?", new, session, old)
        guard let moving = try db.queryFirst("SELECT id FROM conversations WHERE session_id = ? AND contact = ?", session, old) else {
            return
        }
        guard let staying = try db.queryFirst("SELECT id FROM conversations WHERE session_id = ? AND contact = ?", session, new) else {
            try db.write("UPDATE conversations SET contact = ? WHERE id = ?", new, Int64(moving.int(0) ?? 0))
            return
        }
        try db.write("DELETE FROM conversations WHERE id = ?", Int64(moving.int(0) ?? 0))
        try db.write(
            """
            UPDATE conversations SET
                message_count = (SELECT count(*) FROM messages WHERE session_id = ?1 AND contact = ?2 AND is_status = 0),
                last_outgoing_at = (SELECT max(timestamp) FROM messages WHERE session_id = ?1 AND contact = ?2 AND from_me = 1 AND is_status = 0),
                last_activity_at = (SELECT max(timestamp) FROM messages WHERE session_id = ?1 AND contact = ?2 AND is_status = 0),
                last_message_id = (SELECT id FROM messages WHERE session_id = ?1 AND contact = ?2 AND is_status = 0
                                   ORDER BY timestamp DESC, id DESC LIMIT 1)
            WHERE id = ?3
            """,
            session, new, Int64(staying.int(0) ?? 0)
        )
        try db.write(
            """
            UPDATE conversations SET unread_count = (SELECT count(*) FROM messages WHERE session_id = ?1 AND contact = ?2
                AND \(Self.countsUnreadSQL) AND timestamp > COALESCE(conversations.last_outgoing_at, -1))
            WHERE id = ?3
            """,
            session, new, Int64(staying.int(0) ?? 0)
        )
    }

    private func recordMerge(kept: Int64, filedUnder whatsappId: String, merged: Int64, mergedWhatsappId: String,
                             session: String, reason: IdentityLink.Reason, origin: Origin) throws {
        try db.write(
            """
            INSERT INTO contact_merges (session_id, contact_id, whatsapp_id, merged_contact_id, merged_whatsapp_id, reason,
                delivery_id, merged_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """,
            session, kept, whatsappId, merged, mergedWhatsappId, reason.rawValue, origin.deliveryId, origin.now
        )
        state.merges.append(ContactMerge(sessionId: session, contactId: kept, whatsappId: whatsappId,
                                         mergedWhatsappId: mergedWhatsappId, reason: reason.rawValue))
        // Merged by traffic (a merge on upgrade belongs to no delivery and is no news).
        if let deliveryId = origin.deliveryId {
            try logEvent(.contactMerged, session: session, chat: whatsappId, deliveryId: deliveryId, occurredAt: origin.now, now: origin.now,
                         detail: [("merge", .object([
                             ("contact_id", .integer(kept)), ("whatsapp_id", .string(whatsappId)),
                             ("merged_whatsapp_id", .string(mergedWhatsappId)), ("reason", .string(reason.rawValue)),
                         ]))])
        }
    }

    // MARK: - Names

    /// Keeps a name under its source, as of the event's time: per source the newest event's name
    /// wins, whatever order events arrive in. The displayed name is the most preferred source's.
    /// A name equal to the displayed one costs no write (the common case: a customer's every
    /// message repeats their push name); a changed one, one or two.
    @discardableResult
    func record(_ name: SeenName, for contact: ContactRecord) throws -> ContactRecord {
        guard name.name != contact.displayName else { return contact }
        let changed = try db.run(
            """
            INSERT INTO contact_names (contact_id, source, name, updated_at) VALUES (?, ?, ?, ?)
            \(Self.newerNameWins)
            """,
            contact.id, name.source.rawValue, name.name, name.seenAt
        )
        guard changed > 0 else { return contact }
        // Shown when its source is the one shown, or a preferred one; a group is named by its subject.
        guard !contact.whatsappId.hasSuffix("@g.us"),
              contact.displaySource.map({ name.source.precedence <= $0.precedence }) ?? true else { return contact }
        try db.write("UPDATE contacts SET display_name = ?, display_name_source = ? WHERE id = ?",
                   name.name, name.source.rawValue, contact.id)
        state.contacts.display[contact.id] = (name.name, name.source)
        return ContactRecord(id: contact.id, whatsappId: contact.whatsappId, displayName: name.name, displaySource: name.source)
    }

    /// `contacts.display_name` from its names, by source precedence (after a merge).
    func refreshDisplayName(of contactId: Int64) throws {
        state.contacts.display[contactId] = nil
        try db.write(
            """
            UPDATE contacts SET (display_name, display_name_source) = (SELECT name, source FROM contact_names
                WHERE contact_id = ?1 ORDER BY CASE source \(Self.namePrecedenceSQL) END LIMIT 1)
            WHERE id = ?1 AND EXISTS (SELECT 1 FROM contact_names WHERE contact_id = ?1)
            """,
            contactId
        )
    }

    /// `WHEN 'address_book' THEN 0 …`, from `NameSource.precedence`: one ordering, declared once.
    static let namePrecedenceSQL = NameSource.allCases.map { "WHEN '\($0.rawValue)' THEN \($0.precedence)" }.joined(separator: " ")

    /// A contact's identifier names the business itself (its own number): its names are the
    /// business's, never a customer's.
    func isOwnNumber(_ identifier: String, session: String) throws -> Bool {
        guard let phone = Self.phoneNumber(of: identifier) else { return false }
        return try db.queryFirst("SELECT 1 FROM sessions WHERE session_id = ? AND phone_number = ?", session, phone) != nil
    }

    /// `contacts.update` and the like: names and identifiers of contacts, without a message.
    func applyContacts(_ contacts: ContactsPayload, session: String, delivery: Delivery) throws {
        let origin = delivery.origin
        for link in contacts.links { try self.link(link, session: session, origin: origin) }
        for name in contacts.names where try !isOwnNumber(name.identifier, session: session) {
            try touchContact(name.identifier, session: session, timestamp: nil, now: origin.now,
                             name: SeenName(name.name, source: name.source, delivery: delivery))
        }
    }
}

extension EventApplier {
    /// Contacts the same person was filed under twice before identities were kept (a contact's
    /// `lid` that is another contact of the session): merged by the first writer to open the
    /// upgraded database. This version never makes such pairs, so later starts cost one lookup
    /// in `store_state` instead of a scan of every contact.
    func mergeContactsSharingAnIdentifier(now: String) throws {
        guard try db.queryFirst("SELECT 1 FROM store_state WHERE name = 'contacts_merged_on_upgrade'") == nil else { return }
        let pairs = try db.query(
            """
            SELECT a.session_id, a.whatsapp_id, b.whatsapp_id FROM contacts a
            JOIN contacts b ON b.session_id = a.session_id AND b.whatsapp_id = a.lid AND b.id <> a.id
            """
        )
        for pair in pairs {
            guard let session = pair.string(0), let first = pair.string(1), let second = pair.string(2) else { continue }
            try link(IdentityLink(first, second), session: session, origin: Origin(deliveryId: nil, now: now))
        }
        try db.write("INSERT INTO store_state (name, value) VALUES ('contacts_merged_on_upgrade', 1)")
        try flushEvents()
    }
}

extension EventApplier.Delivery {
    var origin: EventApplier.Origin { EventApplier.Origin(deliveryId: id, now: now) }
}

extension IdentityLink {
    /// The identifier that is the newer one, for a changed number or user id.
    var newerSide: String? { reason == .sameSender ? nil : second }
}
