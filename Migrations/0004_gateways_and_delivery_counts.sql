-- 0004: every gateway into the same tables, and constant-time delivery counts. Deliveries and
-- sessions say which gateway sent them; contacts keep WhatsApp's privacy id (@lid) next to the
-- phone JID; receipts keep Meta's error.

ALTER TABLE sessions ADD COLUMN provider TEXT NOT NULL DEFAULT 'inbox-hub'
    CHECK (provider IN ('inbox-hub', 'meta', 'waha', 'evolution'));
ALTER TABLE webhook_deliveries ADD COLUMN provider TEXT NOT NULL DEFAULT 'inbox-hub'
    CHECK (provider IN ('inbox-hub', 'meta', 'waha', 'evolution'));
-- What the delivery meant in InboxLite's own terms (message.received, message.sent, message.ack,
-- session.qr, session.connected, session.disconnected, session.pending), whatever the gateway
-- called it; NULL for events that change nothing. The live stream sends this name.
ALTER TABLE webhook_deliveries ADD COLUMN inbox_event TEXT;
UPDATE webhook_deliveries SET inbox_event = event
WHERE status = 'applied' AND event IN ('message.received', 'message.sent', 'message.ack', 'session.qr',
                                       'session.connected', 'session.disconnected');
CREATE INDEX webhook_deliveries_by_provider ON webhook_deliveries (provider, id);

ALTER TABLE contacts ADD COLUMN lid TEXT;  -- the chat's @lid when the gateway addressed it that way

ALTER TABLE message_acks ADD COLUMN error_code INTEGER;  -- Meta `failed` statuses: errors[0].code
ALTER TABLE message_acks ADD COLUMN error_title TEXT;    -- and errors[0].title

-- Deliveries by gateway, event and status, kept by triggers in the same transaction as every
-- change to webhook_deliveries: stats and health read these few rows instead of counting the log
-- (stats take ?provider=). Filled from the existing log once.
CREATE TABLE delivery_counts (
    provider            TEXT    NOT NULL,
    event               TEXT    NOT NULL,
    status              TEXT    NOT NULL,
    deliveries          INTEGER NOT NULL DEFAULT 0,
    processing_ms_total REAL    NOT NULL DEFAULT 0,
    PRIMARY KEY (provider, event, status)
) WITHOUT ROWID;
CREATE TRIGGER delivery_counts_insert AFTER INSERT ON webhook_deliveries BEGIN
    INSERT INTO delivery_counts (provider, event, status, deliveries, processing_ms_total)
    VALUES (new.provider, new.event, new.status, 1, COALESCE(new.processing_ms, 0))
    ON CONFLICT (provider, event, status) DO UPDATE SET deliveries = deliveries + 1,
        processing_ms_total = processing_ms_total + excluded.processing_ms_total;
END;
CREATE TRIGGER delivery_counts_status AFTER UPDATE OF status ON webhook_deliveries
WHEN old.status IS NOT new.status BEGIN
    UPDATE delivery_counts SET deliveries = deliveries - 1,
        processing_ms_total = processing_ms_total - COALESCE(old.processing_ms, 0)
    WHERE provider = old.provider AND event = old.event AND status = old.status;
    INSERT INTO delivery_counts (provider, event, status, deliveries, processing_ms_total)
    VALUES (new.provider, new.event, new.status, 1, COALESCE(new.processing_ms, 0))
    ON CONFLICT (provider, event, status) DO UPDATE SET deliveries = deliveries + 1,
        processing_ms_total = processing_ms_total + excluded.processing_ms_total;
END;
CREATE TRIGGER delivery_counts_delete AFTER DELETE ON webhook_deliveries BEGIN
    UPDATE delivery_counts SET deliveries = deliveries - 1,
        processing_ms_total = processing_ms_total - COALESCE(old.processing_ms, 0)
    WHERE provider = old.provider AND event = old.event AND status = old.status;
END;
INSERT INTO delivery_counts (provider, event, status, deliveries, processing_ms_total)
SELECT provider, event, status, count(*), COALESCE(sum(processing_ms), 0) FROM webhook_deliveries
GROUP BY provider, event, status;
