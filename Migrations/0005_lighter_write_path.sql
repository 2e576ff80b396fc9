-- 0005: a lighter write path.
--
-- The full-text index is fed by the writer once per transaction instead of by triggers per row:
-- FTS5 writes its pending terms out as a new segment at every statement savepoint, so the insert
-- and update triggers produced one index segment (and later merges) per message. The writer now
-- indexes a transaction's new messages in one statement before it commits, and re-indexes a
-- stored message whose text changes. Deleting a message (by hand) still removes its terms by
-- trigger.
DROP TRIGGER messages_fts_insert;
DROP TRIGGER messages_fts_update;

-- Fewer indexes to maintain on every delivery. Each webhook inserts one row into
-- webhook_deliveries; every index on it is another B-tree page dirtied and written to the WAL per
-- batch. The by-event and by-provider indexes served only list filters and "the newest delivery of
-- a gateway"; the by-status index was almost all 'applied' entries, which no query looks up.
--
-- * The newest delivery per gateway is now kept in delivery_counts (last_delivery_id), by the
--   trigger that already updates that row on every insert: no extra statement.
-- * Deliveries that are not 'applied' (ignored, failed: few) keep an index of their own.
-- * Filtering the delivery list by event or gateway walks the log newest first; a value that is
--   rare and old can hit the query time limit (the answer says so). By session stays indexed.

ALTER TABLE delivery_counts ADD COLUMN last_delivery_id INTEGER;
UPDATE delivery_counts SET last_delivery_id = (
    SELECT max(id) FROM webhook_deliveries w
    WHERE w.provider = delivery_counts.provider AND w.event = delivery_counts.event AND w.status = delivery_counts.status
);

DROP TRIGGER delivery_counts_insert;
CREATE TRIGGER delivery_counts_insert AFTER INSERT ON webhook_deliveries BEGIN
    INSERT INTO delivery_counts (provider, event, status, deliveries, processing_ms_total, last_delivery_id)
    VALUES (new.provider, new.event, new.status, 1, COALESCE(new.processing_ms, 0), new.id)
    ON CONFLICT (provider, event, status) DO UPDATE SET deliveries = deliveries + 1,
        processing_ms_total = processing_ms_total + excluded.processing_ms_total,
        last_delivery_id = max(COALESCE(last_delivery_id, 0), excluded.last_delivery_id);
END;
DROP TRIGGER delivery_counts_status;
CREATE TRIGGER delivery_counts_status AFTER UPDATE OF status ON webhook_deliveries
WHEN old.status IS NOT new.status BEGIN
    UPDATE delivery_counts SET deliveries = deliveries - 1,
        processing_ms_total = processing_ms_total - COALESCE(old.processing_ms, 0)
    WHERE provider = old.provider AND event = old.event AND status = old.status;
    INSERT INTO delivery_counts (provider, event, status, deliveries, processing_ms_total, last_delivery_id)
    VALUES (new.provider, new.event, new.status, 1, COALESCE(new.processing_ms, 0), new.id)
    ON CONFLICT (provider, event, status) DO UPDATE SET deliveries = deliveries + 1,
        processing_ms_total = processing_ms_total + excluded.processing_ms_total,
        last_delivery_id = max(COALESCE(last_delivery_id, 0), excluded.last_delivery_id);
END;

DROP INDEX webhook_deliveries_by_event;
DROP INDEX webhook_deliveries_by_provider;
DROP INDEX webhook_deliveries_by_status;
CREATE INDEX webhook_deliveries_not_applied ON webhook_deliveries (status, id) WHERE status <> 'applied';
