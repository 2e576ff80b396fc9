-- 0011: the inbox's own event log, and forwarding it to CRMs.
--
-- * inbox_events: one row per change the writer applies (a message received or sent, edited,
--   deleted, updated, acknowledged, reacted to; a session's status or QR code; a contact merge; a
--   group's update), written in the transaction that applies the delivery it came from. `seq` is
--   the commit order: forwarding and the normalised event stream read this one log. A message
--   event names its `messages` row; what changed (the receipt, the reaction, the session status)
--   is in `detail`, as JSON members of the event.
-- * forwarding_targets: one row per configured target, by its name: every event up to
--   `forwarded_through` was delivered, is waiting in forwarding_retries, or was not for it.
-- * forwarding_retries: events a target has not accepted yet. A chat's events stay in order: the
--   lowest `seq` of a (session_id, chat) is the one retried; the others wait behind it ('pending'
--   with no attempts). 'dead' rows were given up on: they wait for a re-send by hand.
-- * store_state.event_log_id: a random number that makes event ids (`evt_<id>_<seq>`) differ
--   between two databases.

CREATE TABLE inbox_events (
    seq         INTEGER PRIMARY KEY,
    type        TEXT    NOT NULL,   -- message.received, message.ack, session.status, ...
    session_id  TEXT,
    chat        TEXT,               -- the chat's JID (contact or group); NULL for session-wide events
    message_id  INTEGER REFERENCES messages (id),
    delivery_id INTEGER NOT NULL REFERENCES webhook_deliveries (id),
    occurred_at TEXT    NOT NULL,   -- when it happened, by the gateway's clock (arrival when it has none)
    recorded_at TEXT    NOT NULL,   -- when the writer applied it
    detail      TEXT                -- a JSON object (written by the writer only: not checked row by row)
);

CREATE TABLE forwarding_targets (
    name              TEXT    PRIMARY KEY,
    url               TEXT    NOT NULL,           -- as configured (never its secret)
    forwarded_through INTEGER NOT NULL,           -- inbox_events.seq
    delivered         INTEGER NOT NULL DEFAULT 0, -- events the target answered 2xx
    failed_attempts   INTEGER NOT NULL DEFAULT 0, -- attempts that failed (each retry counts)
    dead              INTEGER NOT NULL DEFAULT 0, -- events given up on, ever
    last_error        TEXT,
    last_error_at     TEXT,
    last_delivered_at TEXT,
    lease_holder      TEXT,                       -- the node forwarding to it (several nodes share a database)
    lease_expires_at  TEXT,
    created_at        TEXT    NOT NULL,
    updated_at        TEXT    NOT NULL
) WITHOUT ROWID;

CREATE TABLE forwarding_retries (
    target          TEXT    NOT NULL,
    seq             INTEGER NOT NULL,
    session_id      TEXT    NOT NULL,   -- '' for an event without a session
    chat            TEXT    NOT NULL,   -- '' for a session-wide event
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    first_failed_at TEXT,               -- the retry time runs from here
    next_attempt_at TEXT,               -- NULL: as soon as it is first in its chat
    last_error      TEXT,
    last_status     INTEGER,            -- the target's HTTP status, if it answered
    updated_at      TEXT    NOT NULL,
    PRIMARY KEY (target, seq)
) WITHOUT ROWID;
CREATE INDEX forwarding_retries_by_chat ON forwarding_retries (target, session_id, chat, seq) WHERE status = 'pending';

INSERT INTO store_state (name, value) VALUES ('event_log_id', abs(random()) % 1099511627776);
