-- 0007: one contact per person per session whatever identifier an event uses; groups and their
-- members; names kept with where they came from; receipts of each group member; account-wide
-- events of Meta filed under the account's sessions.

-- Meta: the WhatsApp Business Account a number belongs to (`entry.id`). Account-wide events
-- (template, account and quality updates) are recorded as events of each of its sessions.
ALTER TABLE sessions ADD COLUMN account_id TEXT;

-- Every identifier a contact has been seen with: its phone JID, its privacy id (@lid), Meta's
-- business-scoped user id (BSUID), parent BSUID and username. `contacts.whatsapp_id` is the one
-- its conversation is filed under: the phone when known, else the BSUID, else the @lid.
CREATE TABLE contact_identities (
    id            INTEGER PRIMARY KEY,
    contact_id    INTEGER NOT NULL REFERENCES contacts (id),
    session_id    TEXT    NOT NULL,
    identifier    TEXT    NOT NULL,
    kind          TEXT    NOT NULL CHECK (kind IN ('phone', 'bsuid', 'parent_bsuid', 'lid', 'username', 'group', 'other')),
    first_seen_at TEXT    NOT NULL,
    UNIQUE (session_id, identifier)
);
CREATE INDEX contact_identities_by_contact ON contact_identities (contact_id);

INSERT INTO contact_identities (contact_id, session_id, identifier, kind, first_seen_at)
SELECT id, session_id, whatsapp_id,
       CASE WHEN whatsapp_id LIKE '%@c.us' THEN 'phone'
            WHEN whatsapp_id LIKE '%@lid' THEN 'lid'
            WHEN whatsapp_id LIKE '%@g.us' THEN 'group'
            WHEN whatsapp_id LIKE '@%' THEN 'username'
            WHEN whatsapp_id LIKE '%.ENT.%' THEN 'parent_bsuid'
            WHEN whatsapp_id GLOB '[A-Z][A-Z].[A-Za-z0-9]*' THEN 'bsuid'
            ELSE 'other' END,
       created_at
FROM contacts;
-- A contact's @lid known before this migration. When the @lid is itself another contact (the
-- same person filed twice), it is skipped here and the two are merged by the writer when it
-- opens the database (ContactMerger).
INSERT OR IGNORE INTO contact_identities (contact_id, session_id, identifier, kind, first_seen_at)
SELECT id, session_id, lid, 'lid', updated_at FROM contacts WHERE lid IS NOT NULL AND lid <> '';

-- When two contacts turned out to be one person (or a contact was filed under a better
-- identifier), what happened: the merged contact's messages and conversation now belong to
-- `contact_id`. Rows stay as history.
CREATE TABLE contact_merges (
    id                 INTEGER PRIMARY KEY,
    session_id         TEXT    NOT NULL,
    contact_id         INTEGER NOT NULL REFERENCES contacts (id),  -- the contact that remains
    whatsapp_id        TEXT    NOT NULL,   -- what it is filed under since this merge
    merged_contact_id  INTEGER NOT NULL,   -- the contact folded in (its row is gone; = contact_id when only refiled)
    merged_whatsapp_id TEXT    NOT NULL,   -- what that contact was filed under
    reason             TEXT    NOT NULL CHECK (reason IN ('same_sender', 'number_changed', 'user_id_changed')),
    delivery_id        INTEGER REFERENCES webhook_deliveries (id),  -- NULL: merged on upgrade
    merged_at          TEXT    NOT NULL
);
CREATE INDEX contact_merges_by_contact ON contact_merges (contact_id, id);
CREATE INDEX contact_merges_by_delivery ON contact_merges (delivery_id) WHERE delivery_id IS NOT NULL;

-- Each name a contact is known by, one per source; `contacts.display_name` is the name of the
-- most preferred source: address_book, profile, verified_business, group_participant, shared_card.
-- An empty name is never stored, so it never clears one.
CREATE TABLE contact_names (
    contact_id INTEGER NOT NULL REFERENCES contacts (id),
    source     TEXT    NOT NULL CHECK (source IN ('address_book', 'profile', 'verified_business', 'group_participant', 'shared_card')),
    name       TEXT    NOT NULL CHECK (name <> ''),
    updated_at TEXT    NOT NULL,
    PRIMARY KEY (contact_id, source)
) WITHOUT ROWID;
INSERT INTO contact_names (contact_id, source, name, updated_at)
SELECT id, 'profile', display_name, updated_at FROM contacts
WHERE is_group = 0 AND display_name IS NOT NULL AND trim(display_name) <> '';
-- Which source the displayed name came from (a contact_names source, or 'group_subject').
ALTER TABLE contacts ADD COLUMN display_name_source TEXT;
UPDATE contacts SET display_name_source = 'profile' WHERE id IN (SELECT contact_id FROM contact_names);

-- A WhatsApp group a session takes part in: its subject and description as the last group
-- event gave them. (Its chat is the contact and conversation of `group_id`.)
CREATE TABLE groups (
    id              INTEGER PRIMARY KEY,
    session_id      TEXT    NOT NULL,
    group_id        TEXT    NOT NULL,   -- …@g.us
    subject         TEXT,
    description     TEXT,
    left_at         TEXT,               -- when the business left or was removed (NULL: a member)
    updated_at      TEXT    NOT NULL,
    UNIQUE (session_id, group_id)
);

-- Its members as the group events listed them (members who only wrote are not listed).
CREATE TABLE group_members (
    group_id   INTEGER NOT NULL REFERENCES groups (id),
    member     TEXT    NOT NULL,   -- the member's JID as the group lists it (phone or @lid)
    member_alt TEXT,               -- the member's other identifier, when given
    role       TEXT    NOT NULL CHECK (role IN ('member', 'admin', 'superadmin')),
    name       TEXT,
    updated_at TEXT    NOT NULL,
    PRIMARY KEY (group_id, member)
) WITHOUT ROWID;

-- Receipts of each member of a group for a message sent to the group (WAHA message.ack.group,
-- Meta statuses with recipient_participant_id): forward-only per member, like a message's status.
CREATE TABLE message_receipts (
    message_id  INTEGER NOT NULL REFERENCES messages (id),
    participant TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    ack         INTEGER NOT NULL CHECK (ack BETWEEN -1 AND 4),
    receipt_at  TEXT    NOT NULL,   -- the receipt's own time (arrival time when it has none)
    delivery_id INTEGER NOT NULL REFERENCES webhook_deliveries (id),
    PRIMARY KEY (message_id, participant)
) WITHOUT ROWID;

-- A group member's receipt that arrived before its message waits with the others.
ALTER TABLE pending_acks ADD COLUMN participant TEXT;

-- A readable line for each session event ("Template order_update: APPROVED", "Connected"); the
-- gateway's object stays in `data`.
ALTER TABLE session_events ADD COLUMN summary TEXT;
