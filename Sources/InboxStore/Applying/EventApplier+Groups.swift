import Foundation
import InboxEvents

/// Groups and their members, each member's receipts, and the readable session events of what
/// changes no row (account, template and quality updates, presence, engine events).
extension EventApplier {
    // MARK: - Groups

    /// A group event: the group's row, its chat's name, and its members as far as the event lists them.
    func applyGroup(_ group: GroupPayload, session: String, delivery: Delivery) throws {
        let chat = try touchContact(group.group, session: session, timestamp: nil, now: delivery.now)
        let eventTime = group.time.map(Timestamps.iso(unixSeconds:)) ?? delivery.receivedAtText
        // Left: set; a full member list (joined, or the gateway's metadata): a member again; otherwise kept.
        let membership = group.left ? 1 : (group.members != nil ? 2 : 0)
        guard let row = try db.queryFirst(
            """
            INSERT INTO groups (session_id, group_id, subject, description, left_at, updated_at)
            VALUES (?1, ?2, ?3, ?4, CASE WHEN ?5 = 1 THEN ?6 END, ?7)
            ON CONFLICT (session_id, group_id) DO UPDATE SET
                subject = COALESCE(excluded.subject, groups.subject), description = COALESCE(excluded.description, groups.description),
                left_at = CASE ?5 WHEN 1 THEN ?6 WHEN 2 THEN NULL ELSE groups.left_at END, updated_at = excluded.updated_at
            RETURNING id
            """,
            session, chat.whatsappId, group.subject.flatMap { $0.isEmpty ? nil : $0 }, group.description, membership,
            eventTime, delivery.now
        ), let groupRow = row.int(0).map(Int64.init) else { return }
        if let subject = group.subject, !subject.isEmpty {
            // A group is named by its subject (never by a member's name).
            try db.write("UPDATE contacts SET display_name = ?, display_name_source = 'group_subject', updated_at = ? WHERE id = ?",
                       subject, delivery.now, chat.id)
            state.contacts.display[chat.id] = nil
        }
        if let members = group.members {
            try db.write("DELETE FROM group_members WHERE group_id = ?", groupRow)
            for member in members { try putMember(member, role: member.role, group: groupRow, session: session, delivery: delivery) }
        }
        if let (change, members) = group.change {
            for member in members {
                switch change {
                case .remove:
                    try db.write("DELETE FROM group_members WHERE group_id = ? AND member = ?", groupRow, member.id)
                case .add:
                    try putMember(member, role: member.role, group: groupRow, session: session, delivery: delivery)
                case .promote:
                    try putMember(member, role: member.role == "superadmin" ? "superadmin" : "admin", group: groupRow,
                                  session: session, delivery: delivery)
                case .demote:
                    try putMember(member, role: "member", group: groupRow, session: session, delivery: delivery)
                }
            }
        }
        var detail: [(String, JSONValue)] = [("group_id", .string(chat.whatsappId))]
        if let subject = group.subject, !subject.isEmpty { detail.append(("subject", .string(subject))) }
        if let description = group.description { detail.append(("description", .string(description))) }
        if group.left { detail.append(("left", .bool(true))) }
        if let members = group.members { detail.append(("members", .integer(Int64(members.count)))) }
        if let (change, members) = group.change {
            detail.append(("change", .string(change.rawValue)))
            detail.append(("participants", .array(members.map { .string($0.id) })))
        }
        try logEvent(.groupUpdated, session: session, chat: chat.whatsappId, deliveryId: delivery.id, occurredAt: eventTime,
                     now: delivery.now, detail: [("group", .object(detail))])
    }

    /// A member's row (`role`: admin or superadmin, anything else a member); their other
    /// identifier and name reach their contact when they have one (members who never wrote are
    /// listed, not made contacts).
    private func putMember(_ member: GroupMember, role: String?, group: Int64, session: String, delivery: Delivery) throws {
        let role = ["admin", "superadmin"].first { $0 == role } ?? "member"
        try db.write(
            """
            INSERT INTO group_members (group_id, member, member_alt, role, name, updated_at) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (group_id, member) DO UPDATE SET member_alt = COALESCE(excluded.member_alt, group_members.member_alt),
                role = excluded.role, name = COALESCE(excluded.name, group_members.name), updated_at = excluded.updated_at
            """,
            group, member.id, member.alternate, role, member.name, delivery.now
        )
        var known = try contact(for: member.id, session: session)
        if let alternate = member.alternate {
            let other = try contact(for: alternate, session: session)
            if known != nil || other != nil {
                try link(IdentityLink(member.id, alternate), session: session, origin: delivery.origin)
                known = try contact(for: member.id, session: session)
            }
        }
        if let known, let name = SeenName(member.name, source: .groupParticipant, delivery: delivery),
           try !isOwnNumber(known.whatsappId, session: session) {
            try record(name, for: known)
        }
    }

    /// One group member's receipt for a message: forward-only per member.
    func recordMemberReceipt(_ receipt: Receipt, participant: String, messageRow: Int64, deliveryId: Int64) throws {
        try db.write(
            """
            INSERT INTO message_receipts (message_id, participant, status, ack, receipt_at, delivery_id) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (message_id, participant) DO UPDATE SET status = excluded.status, ack = excluded.ack,
                receipt_at = excluded.receipt_at, delivery_id = excluded.delivery_id
            WHERE \(Self.statusRankSQL("excluded.status")) > \(Self.statusRankSQL("message_receipts.status"))
            """,
            messageRow, participant, receipt.ack.status.rawValue, receipt.ack.rawValue, receipt.time, deliveryId
        )
    }

    /// A status's rank in SQL, from `MessageStatus.rank`: one ordering, declared once.
    static func statusRankSQL(_ column: String) -> String {
        "CASE \(column) " + MessageStatus.allCases.map { "WHEN '\($0.rawValue)' THEN \($0.rank)" }.joined(separator: " ") + " ELSE -1 END"
    }

    // MARK: - Session events

    /// A readable event of the session: it changes no row but is kept in `session_events`.
    func recordSessionEvent(_ notice: SessionNotice, session: String, delivery: Delivery) throws {
        let time = notice.time.map(Timestamps.iso(unixSeconds:)) ?? delivery.eventTimeText
        try db.write(
            """
            INSERT INTO session_events (session_id, delivery_id, event, event_time, data, received_at, summary)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """,
            session, delivery.id, delivery.envelope.event, time, delivery.data, delivery.receivedAtText, notice.summary
        )
        try logEvent(.sessionNotice, session: session, chat: nil, deliveryId: delivery.id, occurredAt: time, now: delivery.now, detail: [
            ("notice", .object([("event", .string(delivery.envelope.event)), ("summary", .text(notice.summary))])),
        ])
    }

    /// An account-wide event (Meta's WABA fields): an event of each session of the account; the
    /// account's own session (`meta:waba:<id>`) when no number of it has delivered yet.
    func applyAccountNotice(_ notice: SessionNotice, account: String, provider: Provider, delivery: Delivery) throws {
        var sessions = try db.query("SELECT session_id FROM sessions WHERE account_id = ? ORDER BY id", account)
            .compactMap { $0.string(0) }
        if sessions.isEmpty {
            let own = provider.sessionId("waba:\(account)")
            try db.write(
                """
                INSERT INTO sessions (session_id, provider, account_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (session_id) DO NOTHING
                """,
                own, provider.rawValue, account, delivery.now, delivery.now
            )
            sessions = [own]
        }
        for session in sessions { try recordSessionEvent(notice, session: session, delivery: delivery) }
    }
}
