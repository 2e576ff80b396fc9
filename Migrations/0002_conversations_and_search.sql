-- 0002: read-side structures the writer keeps current in the same transaction as each message.

-- One row per (session, chat): what an inbox list shows, without a GROUP BY over all messages.
CREATE TABLE conversations (
    id               INTEGER PRIMARY KEY,
    session_id       TEXT    NOT NULL,
    contact          TEXT    NOT NULL,             -- the chat's JID (contacts.whatsapp_id)
    last_message_id  INTEGER NOT NULL REFERENCES messages (id),  -- rowid of the newest message
    last_activity_at INTEGER NOT NULL,             -- its timestamp (unix s); the list's order
    last_activity_time TEXT GENERATED ALWAYS AS (strftime('%Y-%m-%dT%H:%M:%SZ', last_activity_at, 'unixepoch')) VIRTUAL,
    message_count    INTEGER NOT NULL DEFAULT 0,
    -- Incoming messages newer than our last outgoing one.
    unread_count     INTEGER NOT NULL DEFAULT 0,
    last_outgoing_at INTEGER,
    UNIQUE (session_id, contact)
);
CREATE INDEX conversations_by_activity ON conversations (last_activity_at DESC, id DESC);
CREATE INDEX conversations_by_session_activity ON conversations (session_id, last_activity_at DESC, id DESC);

-- Full-text search over message bodies; accents and case folded ("cómo" finds "como").
CREATE VIRTUAL TABLE messages_fts USING fts5 (
    body,
    content = 'messages',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2',
    columnsize = 0  -- results are ordered by recency, not bm25: no per-document sizes to maintain
);
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages WHEN new.body IS NOT NULL BEGIN
    INSERT INTO messages_fts (rowid, body) VALUES (new.id, new.body);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages WHEN old.body IS NOT new.body BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body) SELECT 'delete', old.id, old.body WHERE old.body IS NOT NULL;
    INSERT INTO messages_fts (rowid, body) SELECT new.id, new.body WHERE new.body IS NOT NULL;
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages WHEN old.body IS NOT NULL BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
END;

-- Receipt history, so a message's read receipt can be shown with when it arrived.
CREATE TABLE message_acks (
    id          INTEGER PRIMARY KEY,
    message_id  INTEGER NOT NULL REFERENCES messages (id),
    ack         INTEGER NOT NULL CHECK (ack BETWEEN -1 AND 4),
    status      TEXT    NOT NULL,
    delivery_id INTEGER NOT NULL REFERENCES webhook_deliveries (id),
    received_at TEXT    NOT NULL
);
CREATE INDEX message_acks_by_message ON message_acks (message_id, id);

-- The query side's delivery log and stats filters.
CREATE INDEX webhook_deliveries_by_event ON webhook_deliveries (event, id);
CREATE INDEX webhook_deliveries_by_session ON webhook_deliveries (session_id, id);

-- Backfill for databases that already hold messages.
INSERT INTO messages_fts (rowid, body) SELECT id, body FROM messages WHERE body IS NOT NULL;
INSERT INTO conversations (session_id, contact, last_message_id, last_activity_at, message_count, unread_count, last_outgoing_at)
SELECT m.session_id, m.contact,
       (SELECT id FROM messages l WHERE l.session_id = m.session_id AND l.contact = m.contact
         ORDER BY l.timestamp DESC, l.id DESC LIMIT 1),
       max(COALESCE(m.timestamp, 0)), count(*),
       0, max(CASE WHEN m.from_me = 1 THEN m.timestamp END)
FROM messages m WHERE m.is_status = 0 GROUP BY m.session_id, m.contact;
UPDATE conversations SET unread_count = (
    SELECT count(*) FROM messages m WHERE m.session_id = conversations.session_id AND m.contact = conversations.contact
      AND m.from_me = 0 AND m.is_status = 0 AND COALESCE(m.timestamp, 0) > COALESCE(conversations.last_outgoing_at, -1));
