/// What the query API returns. Each model is declared once, here: its JSON members (named after
/// the table columns), the SQL each is selected as, and how it is written (see `ReadModel`).
enum ReadModels {
    /// `last_event_at` reads the newest delivery through the (session_id, id) index: a max() over
    /// `received_at` scanned every delivery of the session (0.9 s at a million deliveries).
    static let session = ReadModel([
        Field("id", "s.id", .hidden),
        Field("session_id", .text, table: "s"),
        Field("provider", .text, table: "s"),
        Field("status", .text, table: "s"),
        Field("is_connected", .boolean, table: "s"),
        Field("phone_number", .optionalText, table: "s"),
        Field("account_id", .optionalText, table: "s"),
        Field("has_qr_code", "s.qr_code IS NOT NULL", .boolean),
        Field("qr_expires_at", .optionalText, table: "s"),
        Field("disconnect_reason", .optionalText, table: "s"),
        Field("status_changed_at", .optionalText, table: "s"),
        Field("last_event_at", "(SELECT received_at FROM webhook_deliveries d WHERE d.session_id = s.session_id ORDER BY d.id DESC LIMIT 1)", .optionalText),
        Field("message_count", "(SELECT COALESCE(sum(message_count), 0) FROM conversations c WHERE c.session_id = s.session_id)", .integer),
        Field("conversation_count", "(SELECT count(*) FROM conversations c WHERE c.session_id = s.session_id)", .integer),
        Field("created_at", .text, table: "s"),
        Field("updated_at", .text, table: "s"),
    ])

    static let contact = ReadModel([
        Field("id", .integer),
        Field("whatsapp_id", .text),
        Field("session_id", .text),
        Field("phone_number", .optionalText),
        Field("is_group", .boolean),
        Field("display_name", .optionalText),
        Field("first_message_at", .optionalInteger),
        Field("first_message_time", "first_message_at", .unixTime),
        Field("last_message_at", .optionalInteger),
        Field("last_message_time", "last_message_at", .unixTime),
        Field("created_at", .text),
        Field("updated_at", .text),
        Field("lid", .optionalText),
        // Every identifier the contact was seen with, its names by source, and the contacts merged into it.
        Field("identities", .rawJSON) { sql in
            let identity = sql.jsonObject(["identifier": "identifier", "kind": "kind", "first_seen_at": "first_seen_at"])
            return """
                (SELECT \(sql.jsonArrayAggregate(identity))
                 FROM (SELECT * FROM contact_identities i WHERE i.contact_id = contacts.id ORDER BY i.id) AS identities)
                """
        },
        Field("names", .rawJSON) { sql in
            let name = sql.jsonObject(["source": "source", "name": "name", "updated_at": "updated_at"])
            return "(SELECT \(sql.jsonArrayAggregate(name)) FROM contact_names n WHERE n.contact_id = contacts.id)"
        },
        Field("merges", .rawJSON) { sql in
            let merge = sql.jsonObject([
                "merged_whatsapp_id": "merged_whatsapp_id", "reason": "reason", "merged_at": "merged_at", "delivery_id": "delivery_id",
            ])
            return """
                (SELECT \(sql.jsonArrayAggregate(merge))
                 FROM (SELECT * FROM contact_merges g WHERE g.contact_id = contacts.id ORDER BY g.id) AS merges)
                """
        },
    ])

    /// The contact an identifier names in a session (any identifier it was seen with): the one
    /// lookup every read that resolves an identifier uses.
    static func contactIdOf(session: String, identifier: String) -> String {
        "(SELECT contact_id FROM contact_identities WHERE session_id = \(session) AND identifier = \(identifier))"
    }

    /// A column of that contact.
    static func contactColumn(_ column: String, session: String, identifier: String) -> String {
        "(SELECT \(column) FROM contacts WHERE id = \(contactIdOf(session: session, identifier: identifier)))"
    }

    static let group = ReadModel([
        Field("id", .integer, table: "g"),
        Field("session_id", .text, table: "g"),
        Field("group_id", .text, table: "g"),
        Field("subject", .optionalText, table: "g"),
        Field("description", .optionalText, table: "g"),
        Field("left_at", .optionalText, table: "g"),
        Field("updated_at", .text, table: "g"),
        Field("members", .rawJSON) { sql in
            let member = sql.jsonObject([
                "member": "member", "member_alt": "member_alt", "role": "role",
                "name": "COALESCE(\(contactColumn("display_name", session: "g.session_id", identifier: "gm.member")), gm.name)",
            ])
            return "(SELECT \(sql.jsonArrayAggregate(member)) FROM group_members gm WHERE gm.group_id = g.id)"
        },
    ])

    static let sessionEvent = ReadModel([
        Field("id", .integer),
        Field("session_id", .text),
        Field("event", .text),
        Field("summary", .optionalText),
        Field("event_time", .optionalText),
        Field("received_at", .text),
        Field("delivery_id", .integer),
    ])

    /// A message's fields, from the `messages` table under `alias`.
    static func messageFields(_ alias: String) -> [Field] {
        [
            Field("id", .integer, table: alias),
            Field("message_id", .text, table: alias),
            Field("wa_key_id", .optionalText, table: alias),
            Field("session_id", .text, table: alias),
            Field("contact", .text, table: alias),
            Field("from_me", .boolean, table: alias),
            Field("author", .optionalText, table: alias),
            // In groups: the author's contact name, else the name the group's member list gives.
            Field("author_name", """
                CASE WHEN \(alias).author IS NOT NULL THEN COALESCE(
                    \(contactColumn("display_name", session: "\(alias).session_id", identifier: "\(alias).author")),
                    (SELECT gm.name FROM groups g JOIN group_members gm ON gm.group_id = g.id
                     WHERE g.session_id = \(alias).session_id AND g.group_id = \(alias).contact
                       AND (gm.member = \(alias).author OR gm.member_alt = \(alias).author) LIMIT 1)) END
                """, .optionalText),
            Field("body", .optionalText, table: alias),
            Field("type", .optionalText, table: alias),
            Field("gateway_type", .optionalText, table: alias),
            Field("content", .optionalRawJSON, table: alias),
            // The file's description, null members left out (a merge patch drops them).
            Field("media", .optionalRawJSON) { sql in
                let media = sql.jsonObject([
                    "kind": "kind", "mime_type": "mime_type", "file_name": "file_name", "size_bytes": "size_bytes", "sha256": "sha256",
                    "gateway_media_id": "gateway_media_id", "url": "url", "width": "width", "height": "height",
                    "duration_seconds": "duration_seconds", "is_animated": sql.jsonBoolean("is_animated"),
                ])
                return "(SELECT \(sql.jsonWithoutNulls(media)) FROM message_media WHERE message_id = \(alias).id)"
            },
            Field("reactions", .rawJSON) { sql in
                let reaction = sql.jsonObject(["emoji": "emoji", "reactor": "reactor", "reacted_at": "reacted_at"])
                return """
                    (SELECT \(sql.jsonArrayAggregate(reaction))
                     FROM message_reactions WHERE message_id = \(alias).id AND emoji IS NOT NULL)
                    """
            },
            // Each group member's receipt, for a message sent to a group.
            Field("receipts", .rawJSON) { sql in
                let receipt = sql.jsonObject(["participant": "participant", "status": "status", "receipt_at": "receipt_at"])
                return "(SELECT \(sql.jsonArrayAggregate(receipt)) FROM message_receipts WHERE message_id = \(alias).id)"
            },
            // For a poll: each person's current vote.
            Field("votes", .optionalRawJSON) { sql in
                let vote = sql.jsonObject(["voter": "voter", "options": sql.jsonValue("options"), "voted_at": "voted_at"])
                return """
                    CASE WHEN \(alias).type = 'poll' THEN (SELECT \(sql.jsonArrayAggregate(vote))
                        FROM poll_votes WHERE session_id = \(alias).session_id AND poll_key = \(alias).wa_key_id) END
                    """
            },
            Field("backfilled", .boolean, table: alias),
            Field("edited", "\(alias).edited_at IS NOT NULL", .boolean),
            Field("edited_at", .optionalText, table: alias),
            Field("deleted", "\(alias).deleted_at IS NOT NULL", .boolean),
            Field("deleted_at", .optionalText, table: alias),
            Field("timestamp", .optionalInteger, table: alias),
            Field("message_time", "\(alias).timestamp", .unixTime),
            Field("has_media", .boolean, table: alias),
            Field("is_forwarded", .boolean, table: alias),
            Field("is_status", .boolean, table: alias),
            Field("quoted_msg_id", .optionalText, table: alias),
            Field("status", .text, table: alias),
            Field("ack", .optionalInteger, table: alias),
            Field("ack_at", .optionalText, table: alias),
            Field("ack_received_at", .optionalText, table: alias),
            Field("created_at", .text, table: alias),
            Field("updated_at", .text, table: alias),
        ]
    }

    static let message = ReadModel(messageFields("m"))

    /// The detail endpoint: with the gateway's `data` object exactly as stored.
    static let messageWithData = ReadModel(messageFields("m") + [Field("data", .rawJSON, table: "m")])

    /// A search hit: with a highlighted excerpt.
    static let searchHit = ReadModel(messageFields("m") + [
        Field("snippet", .snippet) { sql in
            sql.engine == .sqlite
                ? "snippet(messages_fts, 0, '\(Snippet.open)', '\(Snippet.close)', '…', 12)"
                : "inbox_snippet(m.body, search.words, '\(Snippet.open)', '\(Snippet.close)', '…', 12)"
        },
    ])

    static let conversation = ReadModel([
        Field("id", .integer, table: "c"),
        Field("session_id", .text, table: "c"),
        Field("contact", .text, table: "c"),
        Field("display_name", .optionalText, table: "k"),
        Field("phone_number", .optionalText, table: "k"),
        Field("is_group", "COALESCE(k.is_group, 0)", .boolean),
        Field("last_activity_at", .integer, table: "c"),
        Field("last_activity_time", "c.last_activity_at", .unixTime),
        Field("message_count", .integer, table: "c"),
        Field("unread_count", .integer, table: "c"),
        Field("last_message", "", .object([
            Field("message_id", .text, table: "m"),
            Field("body_preview", "substr(m.body, 1, 120)", .optionalText),
            Field("timestamp", .optionalInteger, table: "m"),
            Field("message_time", "m.timestamp", .unixTime),
            Field("from_me", .boolean, table: "m"),
            Field("status", .text, table: "m"),
            Field("type", .optionalText, table: "m"),
            Field("deleted", "m.deleted_at IS NOT NULL", .boolean),
        ])),
    ])

    static let ack = ReadModel([
        Field("ack", .integer),
        Field("status", .text),
        Field("ack_at", .optionalText),
        Field("received_at", .text),
        Field("error_code", .optionalInteger),
        Field("error_title", .optionalText),
    ])

    static func delivery(includeBody: Bool) -> ReadModel {
        includeBody ? deliveryWithBody : deliveryWithoutBody
    }

    private static let deliveryFields = [
        Field("id", .integer),
        Field("provider", .text),
        Field("event", .text),
        Field("inbox_event", .optionalText),
        Field("session_id", .optionalText),
        Field("body_sha256", .text),
        Field("received_at", .text),
        Field("status", .text),
        Field("attempts", .integer),
        Field("last_error", .optionalText),
        Field("processing_ms", .optionalNumber),
        Field("applied_at", .optionalText),
        Field("next_attempt_at", .optionalText),
        // When retention emptied the body; the row and hash stay.
        Field("body_removed_at", .optionalText),
    ]
    private static let deliveryWithoutBody = ReadModel(deliveryFields)
    private static let deliveryWithBody = ReadModel(
        deliveryFields + [Field("body", "CASE WHEN body_removed_at IS NULL THEN body END", .optionalText)]
    )

    /// A forwarded event given up on.
    static let forwardingDeadLetter = ReadModel([
        Field("seq", .integer, table: "r"),
        Field("target", .text, table: "r"),
        Field("type", .text, table: "e"),
        Field("session_id", .optionalText, table: "e"),
        Field("chat", .optionalText, table: "e"),
        Field("occurred_at", .text, table: "e"),
        Field("delivery_id", .integer, table: "e"),
        Field("attempts", .integer, table: "r"),
        Field("last_error", .optionalText, table: "r"),
        Field("last_status", .optionalInteger, table: "r"),
        Field("first_failed_at", .optionalText, table: "r"),
        Field("dead_at", "r.updated_at", .text),
    ])
}
