-- 0002: the named values the writer keeps, which 0001 created the table for but left out
-- (SQLite's 0003 inserts them): housekeeping counts and retention progress start at zero.
INSERT INTO store_state (name, value) VALUES
    ('expired_pending_acks', 0),       -- receipts moved to expired_pending_acks, ever
    ('bodies_removed_through_id', 0)   -- retention has looked at every delivery up to this id
ON CONFLICT (name) DO NOTHING;
