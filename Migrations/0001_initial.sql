-- 0001: the InboxLite schema. Mirrors the CRM's WhatsApp Session / Contact / Message doctypes
-- (same field names) plus the webhook delivery log that is the audit trail and the replay source.
-- Times: *_at columns are ISO 8601 UTC text ('2025-10-14T06:30:00.000Z'); `timestamp` and
-- *_message_at are unix seconds as the gateway sends them, each with a readable *_time twin.

-- Every webhook InboxLite accepted, byte for byte. Identical bodies are stored once.
CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY,
    event           TEXT    NOT NULL,
    session_id      TEXT,
    body_sha256     TEXT    NOT NULL UNIQUE CHECK (length(body_sha256) = 64),
    body            TEXT    NOT NULL,
    received_at     TEXT    NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('applied', 'ignored', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 1 CHECK (attempts >= 1),
    last_error      TEXT,
    processing_ms   REAL,    -- ms from the request's arrival until the writer applied it
    applied_at      TEXT,
    -- For failed deliveries: when the writer retries next (NULL once it has given up).
    next_attempt_at TEXT
);
CREATE INDEX webhook_deliveries_retry_due ON webhook_deliveries (next_attempt_at) WHERE status = 'failed';
CREATE INDEX webhook_deliveries_by_status ON webhook_deliveries (status, id);

CREATE TABLE sessions (
    id                INTEGER PRIMARY KEY,
    session_id        TEXT    NOT NULL UNIQUE,
    status            TEXT    NOT NULL DEFAULT 'Pending'
                      CHECK (status IN ('Pending', 'QR Code', 'Connected', 'Disconnected')),
    is_connected      INTEGER NOT NULL DEFAULT 0 CHECK (is_connected IN (0, 1)),
    phone_number      TEXT,
    qr_code           TEXT,
    qr_expires_at     TEXT,
    disconnect_reason TEXT,
    -- Event time of the session event that set `status`: an older event arriving late loses.
    status_changed_at TEXT,
    created_at        TEXT    NOT NULL,
    updated_at        TEXT    NOT NULL
);

-- Every session event, in arrival order, whether or not it changed the session row.
CREATE TABLE session_events (
    id          INTEGER PRIMARY KEY,
    session_id  TEXT    NOT NULL REFERENCES sessions (session_id),
    delivery_id INTEGER NOT NULL REFERENCES webhook_deliveries (id),
    event       TEXT    NOT NULL,
    event_time  TEXT,
    data        TEXT    NOT NULL,
    received_at TEXT    NOT NULL
);
CREATE INDEX session_events_by_session ON session_events (session_id, id);

CREATE TABLE contacts (
    id               INTEGER PRIMARY KEY,
    whatsapp_id      TEXT    NOT NULL UNIQUE,
    session_id       TEXT    NOT NULL,
    phone_number     TEXT,
    is_group         INTEGER NOT NULL DEFAULT 0 CHECK (is_group IN (0, 1)),
    display_name     TEXT,
    first_message_at INTEGER,
    last_message_at  INTEGER,
    first_message_time TEXT GENERATED ALWAYS AS (strftime('%Y-%m-%dT%H:%M:%SZ', first_message_at, 'unixepoch')) VIRTUAL,
    last_message_time  TEXT GENERATED ALWAYS AS (strftime('%Y-%m-%dT%H:%M:%SZ', last_message_at, 'unixepoch')) VIRTUAL,
    created_at       TEXT    NOT NULL,
    updated_at       TEXT    NOT NULL
);
CREATE INDEX contacts_by_last_activity ON contacts (last_message_at DESC, id DESC);

CREATE TABLE messages (
    id            INTEGER PRIMARY KEY,
    message_id    TEXT    NOT NULL UNIQUE,   -- data.id._serialized
    wa_key_id     TEXT,                      -- data.id.id: what message.ack calls messageId
    session_id    TEXT    NOT NULL REFERENCES sessions (session_id),
    contact       TEXT    NOT NULL,          -- the chat's JID: the other side, or the group
    from_me       INTEGER NOT NULL CHECK (from_me IN (0, 1)),
    author        TEXT,                      -- the participant who wrote it, in groups
    body          TEXT,
    type          TEXT,
    timestamp     INTEGER,                   -- unix seconds, from the gateway
    message_time  TEXT GENERATED ALWAYS AS (strftime('%Y-%m-%dT%H:%M:%SZ', timestamp, 'unixepoch')) VIRTUAL,
    has_media     INTEGER NOT NULL DEFAULT 0 CHECK (has_media IN (0, 1)),
    is_forwarded  INTEGER NOT NULL DEFAULT 0 CHECK (is_forwarded IN (0, 1)),
    is_status     INTEGER NOT NULL DEFAULT 0 CHECK (is_status IN (0, 1)),  -- a status@broadcast post, not a chat
    quoted_msg_id TEXT,
    status        TEXT    NOT NULL
                  CHECK (status IN ('received', 'pending', 'sent', 'server', 'error', 'delivered', 'read', 'played')),
    ack           INTEGER CHECK (ack BETWEEN -1 AND 4),
    ack_at        TEXT,
    data          TEXT    NOT NULL CHECK (json_valid(data)),  -- the event's `data`, every field kept
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL
);
CREATE INDEX messages_by_conversation ON messages (session_id, contact, timestamp, id);
CREATE INDEX messages_by_wa_key_id ON messages (wa_key_id);

-- Receipts that arrived before their message; applied and removed when the message arrives.
CREATE TABLE pending_acks (
    id          INTEGER PRIMARY KEY,
    session_id  TEXT    NOT NULL,
    message_ref TEXT    NOT NULL,   -- data.messageId as sent: short (wa_key_id) or long (message_id)
    ack         INTEGER NOT NULL CHECK (ack BETWEEN -1 AND 4),
    delivery_id INTEGER NOT NULL REFERENCES webhook_deliveries (id),
    received_at TEXT    NOT NULL
);
CREATE INDEX pending_acks_by_message ON pending_acks (session_id, message_ref);
