-- 0003: bounded tables (expired receipts, body retention) and the times a receipt carries.

-- Small named values the writer keeps: counts of what housekeeping moved, retention progress.
CREATE TABLE store_state (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO store_state (name, value) VALUES
    ('expired_pending_acks', 0),       -- receipts moved to expired_pending_acks, ever
    ('bodies_removed_through_id', 0);  -- retention has looked at every delivery up to this id

-- Receipts whose message never arrived within the expiry window (default 7 days): moved here so
-- pending_acks stays small; kept for inspection, not applied if the message turns up later.
CREATE TABLE expired_pending_acks (
    id          INTEGER PRIMARY KEY,   -- the id it had in pending_acks
    session_id  TEXT    NOT NULL,
    message_ref TEXT    NOT NULL,
    ack         INTEGER NOT NULL,
    delivery_id INTEGER NOT NULL,
    received_at TEXT    NOT NULL,
    expired_at  TEXT    NOT NULL
);
CREATE INDEX pending_acks_by_age ON pending_acks (received_at);

-- Retention (`--retain-bodies DAYS`) empties `body` of old applied deliveries; the row and its
-- body_sha256 stay, so a late retry of the same body is still recognised as a duplicate.
ALTER TABLE webhook_deliveries ADD COLUMN body_removed_at TEXT;

-- A receipt's own time, from the payload when it has one; the arrival time stays in received_at.
ALTER TABLE message_acks ADD COLUMN ack_at TEXT;
UPDATE message_acks SET ack_at = received_at;
-- messages.ack_at: the time of the receipt that set `status` (its payload time, else arrival);
-- ack_received_at: when that receipt arrived.
ALTER TABLE messages ADD COLUMN ack_received_at TEXT;
UPDATE messages SET ack_received_at = ack_at WHERE ack_at IS NOT NULL;
ALTER TABLE pending_acks ADD COLUMN ack_at TEXT;
