-- 0008: poll votes, and messages that came from a gateway's history sync.

-- A message a gateway sent from its history sync (Evolution messages.set) rather than as it
-- happened: kept like any other, never counted unread.
ALTER TABLE messages ADD COLUMN backfilled INTEGER NOT NULL DEFAULT 0 CHECK (backfilled IN (0, 1));

-- Each person's current vote in a poll: the options they chose (a JSON array of option names;
-- empty when they took their vote back). Keyed by the poll message's WhatsApp key, so a vote that
-- arrives before its poll is kept and shows once the poll does.
CREATE TABLE poll_votes (
    session_id  TEXT    NOT NULL,
    poll_key    TEXT    NOT NULL,   -- the poll message's key (messages.wa_key_id)
    voter       TEXT    NOT NULL,   -- the voter's JID, or 'me'
    options     TEXT    NOT NULL CHECK (json_valid(options) AND json_type(options) = 'array'),
    voted_at    TEXT    NOT NULL,   -- the vote's own time (arrival time when it has none)
    delivery_id INTEGER NOT NULL REFERENCES webhook_deliveries (id),
    PRIMARY KEY (session_id, poll_key, voter)
) WITHOUT ROWID;
