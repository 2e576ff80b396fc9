-- 0010: tokens limited to sessions, and delivery counts per session.
--
-- * api_tokens.sessions: NULL for a token that sees every session (every token made before this
--   migration), else a JSON array of the session ids it may see, e.g. ["acme-sales","acme-support"].
-- * delivery_counts gains session_id ('' for deliveries that named no session), so statistics
--   answer a token limited to some sessions from its own sessions' counts, still without reading
--   the delivery log. The same one upsert per delivery keeps it, with one more key column. The
--   counts are recomputed from the log once, here (one pass over webhook_deliveries).

ALTER TABLE api_tokens ADD COLUMN sessions TEXT
    CHECK (sessions IS NULL OR (json_valid(sessions) AND json_type(sessions) = 'array'));

DROP TRIGGER delivery_counts_insert;
DROP TRIGGER delivery_counts_status;
DROP TRIGGER delivery_counts_delete;
DROP TABLE delivery_counts;

CREATE TABLE delivery_counts (
    provider            TEXT    NOT NULL,
    session_id          TEXT    NOT NULL,   -- '' when the delivery named no session
    event               TEXT    NOT NULL,
    status              TEXT    NOT NULL,
    deliveries          INTEGER NOT NULL DEFAULT 0,
    processing_ms_total REAL    NOT NULL DEFAULT 0,
    last_delivery_id    INTEGER,
    PRIMARY KEY (provider, session_id, event, status)
) WITHOUT ROWID;

INSERT INTO delivery_counts (provider, session_id, event, status, deliveries, processing_ms_total, last_delivery_id)
SELECT provider, COALESCE(session_id, ''), event, status, count(*), COALESCE(sum(processing_ms), 0), max(id)
FROM webhook_deliveries GROUP BY provider, COALESCE(session_id, ''), event, status;

CREATE TRIGGER delivery_counts_insert AFTER INSERT ON webhook_deliveries BEGIN
    INSERT INTO delivery_counts (provider, session_id, event, status, deliveries, processing_ms_total, last_delivery_id)
    VALUES (new.provider, COALESCE(new.session_id, ''), new.event, new.status, 1, COALESCE(new.processing_ms, 0), new.id)
    ON CONFLICT (provider, session_id, event, status) DO UPDATE SET deliveries = deliveries + 1,
        processing_ms_total = processing_ms_total + excluded.processing_ms_total,
        last_delivery_id = max(COALESCE(last_delivery_id, 0), excluded.last_delivery_id);
END;
CREATE TRIGGER delivery_counts_status AFTER UPDATE OF status ON webhook_deliveries
WHEN old.status IS NOT new.status BEGIN
    UPDATE delivery_counts SET deliveries = deliveries - 1,
        processing_ms_total = processing_ms_total - COALESCE(old.processing_ms, 0)
    WHERE provider = old.provider AND session_id = COALESCE(old.session_id, '') AND event = old.event AND status = old.status;
    INSERT INTO delivery_counts (provider, session_id, event, status, deliveries, processing_ms_total, last_delivery_id)
    VALUES (new.provider, COALESCE(new.session_id, ''), new.event, new.status, 1, COALESCE(new.processing_ms, 0), new.id)
    ON CONFLICT (provider, session_id, event, status) DO UPDATE SET deliveries = deliveries + 1,
        processing_ms_total = processing_ms_total + excluded.processing_ms_total,
        last_delivery_id = max(COALESCE(last_delivery_id, 0), excluded.last_delivery_id);
END;
CREATE TRIGGER delivery_counts_delete AFTER DELETE ON webhook_deliveries BEGIN
    UPDATE delivery_counts SET deliveries = deliveries - 1,
        processing_ms_total = processing_ms_total - COALESCE(old.processing_ms, 0)
    WHERE provider = old.provider AND session_id = COALESCE(old.session_id, '') AND event = old.event AND status = old.status;
END;
