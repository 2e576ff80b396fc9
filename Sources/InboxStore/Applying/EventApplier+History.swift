import Foundation
import InboxEvents

/// Poll votes and history syncs: events that carry many rows at once.
extension EventApplier {
    /// Each voter's newest vote; a complete tally (Evolution) also removes the votes it no longer lists.
    func applyPollVotes(_ votes: PollVotesPayload, session: String, delivery: Delivery) throws {
        let time = votes.time.map(Timestamps.iso(unixSeconds:)) ?? delivery.eventTimeText
        if votes.isComplete {
            try db.write("DELETE FROM poll_votes WHERE session_id = ? AND poll_key = ? AND voted_at <= ?", session, votes.pollKey, time)
        }
        for vote in votes.votes {
            let options = String(decoding: JSONValue.array(vote.options.map(JSONValue.string)).serialized, as: UTF8.self)
            try db.write(
                """
                INSERT INTO poll_votes (session_id, poll_key, voter, options, voted_at, delivery_id) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (session_id, poll_key, voter) DO UPDATE SET options = excluded.options, voted_at = excluded.voted_at,
                    delivery_id = excluded.delivery_id
                WHERE excluded.voted_at >= poll_votes.voted_at
                """,
                session, votes.pollKey, vote.voter, options, time, delivery.id
            )
        }
        // An event for the poll's message, once it is stored (its `votes` show every current vote).
        if let poll = try findMessages(votes.pollKey, key: votes.pollKey, session: session).first?.int(0) {
            try logMessageEvent(.messagePollVote, message: Int64(poll), occurredAt: time, deliveryId: delivery.id, now: delivery.now, detail: [
                ("poll_vote", .object([("votes", .array(votes.votes.map { vote in
                    .object([("voter", .string(vote.voter)), ("options", .array(vote.options.map(JSONValue.string)))])
                })), ("complete", .bool(votes.isComplete))])),
            ])
        }
    }

    /// A history sync: each message stored as backfilled (never unread), chat names as the
    /// business's address book has them. One delivery, one stream event, however many messages.
    func applyHistory(_ history: HistoryPayload, session: String, delivery: Delivery) throws {
        for message in history.messages {
            var context = delivery
            context.data = String(decoding: message.dataJSON, as: UTF8.self)
            try applyMessage(message.payload, outgoing: message.payload.fromMe ?? false, session: session, delivery: context)
        }
        let groups = history.chatNames.filter { $0.identifier.hasSuffix("@g.us") }
        for group in groups {
            var payload = GroupPayload(group: group.identifier)
            payload.subject = group.name
            try applyGroup(payload, session: session, delivery: delivery)
        }
        let people = history.chatNames.filter { !$0.identifier.hasSuffix("@g.us") }
        try applyContacts(ContactsPayload(names: people, links: []), session: session, delivery: delivery)
    }
}
