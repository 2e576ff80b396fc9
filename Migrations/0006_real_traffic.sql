-- 0006: what the phone shows. Reactions, edits and deletions change their target message instead
-- of being ignored; media, locations, shared contacts and other content keep what the gateway
-- sent in typed columns; every message's `type` comes from one vocabulary whatever gateway sent
-- it; a contact is one person in one session; secrets the gateways put in bodies are not kept.

-- One vocabulary for `messages.type` (text, image, video, audio, voice, document, sticker, location,
-- contacts, interactive, button, order, poll, system, unsupported); the gateway's own word stays in
-- `gateway_type`. Rows already stored are mapped here once; new rows are mapped by the decoder.
ALTER TABLE messages ADD COLUMN gateway_type TEXT;
UPDATE messages SET gateway_type = type;
UPDATE messages SET type = CASE
    WHEN type IS NULL OR type IN ('text', 'chat', 'conversation', 'extendedTextMessage') THEN 'text'
    WHEN type IN ('image', 'imageMessage') THEN 'image'
    WHEN type IN ('video', 'videoMessage', 'ptvMessage', 'gif') THEN 'video'
    WHEN type IN ('audio', 'audioMessage') THEN 'audio'
    WHEN type IN ('ptt', 'voice') THEN 'voice'
    WHEN type IN ('document', 'documentMessage', 'documentWithCaptionMessage') THEN 'document'
    WHEN type IN ('sticker', 'stickerMessage') THEN 'sticker'
    WHEN type IN ('location', 'locationMessage', 'liveLocationMessage', 'live_location') THEN 'location'
    WHEN type IN ('contacts', 'vcard', 'multi_vcard', 'contactMessage', 'contactsArrayMessage') THEN 'contacts'
    WHEN type IN ('interactive', 'list_response', 'buttons_response', 'listResponseMessage',
                  'buttonsResponseMessage', 'interactiveResponseMessage') THEN 'interactive'
    WHEN type IN ('button', 'template_button_reply', 'templateButtonReplyMessage') THEN 'button'
    WHEN type IN ('order', 'orderMessage', 'product', 'productMessage') THEN 'order'
    WHEN type IN ('poll', 'poll_creation', 'pollCreationMessage', 'pollCreationMessageV2', 'pollCreationMessageV3') THEN 'poll'
    WHEN type IN ('system', 'e2e_notification', 'notification', 'notification_template', 'gp2', 'call_log',
                  'protocol', 'protocolMessage') THEN 'system'
    ELSE 'unsupported'
END;

-- What a message shows besides its text: `content` is a JSON object per kind (a location's
-- coordinates, shared vCards, the chosen reply of an interactive message, an order's items, an
-- ad referral, the gateway's error for an unsupported message); `body` holds its readable text
-- (the caption of a photo, "📍 Office, Main St 1"), so previews and search are never empty.
ALTER TABLE messages ADD COLUMN content TEXT CHECK (content IS NULL OR json_valid(content));
-- When the sender last edited it (its previous texts are in message_edits).
ALTER TABLE messages ADD COLUMN edited_at TEXT;
-- When it was deleted for everyone. A deleted message stays as a tombstone: its body, content and
-- edit history are cleared (not kept), and `data` keeps only the gateway's ids.
ALTER TABLE messages ADD COLUMN deleted_at TEXT;

-- A photo, video, voice note, audio, document or sticker: what a later download needs (the
-- gateway's media id or URL) and what a CRM shows before it (kind, type, name, size).
CREATE TABLE message_media (
    message_id       INTEGER PRIMARY KEY REFERENCES messages (id),
    kind             TEXT    NOT NULL CHECK (kind IN ('image', 'video', 'audio', 'voice', 'document', 'sticker')),
    mime_type        TEXT,
    file_name        TEXT,
    size_bytes       INTEGER,
    sha256           TEXT,      -- as the gateway gives it (Meta and Baileys: base64)
    gateway_media_id TEXT,      -- Meta: the media id to fetch through the Graph API
    url              TEXT,      -- WAHA's file URL, Evolution's stored copy or WhatsApp's encrypted URL
    width            INTEGER,
    height           INTEGER,
    duration_seconds INTEGER,
    is_animated      INTEGER CHECK (is_animated IN (0, 1)),
    updated_at       TEXT    NOT NULL
);

-- One reaction per person per message: a new emoji replaces the old one. A removed reaction keeps
-- its row with `emoji` NULL and the time it was removed, so an older reaction that arrives late
-- cannot bring it back. Reactions are never messages: they change no preview and no unread count.
CREATE TABLE message_reactions (
    id          INTEGER PRIMARY KEY,
    message_id  INTEGER NOT NULL REFERENCES messages (id),
    reactor     TEXT    NOT NULL,   -- who reacted: the person's JID, or 'me' for the business
    emoji       TEXT,               -- NULL: the reaction was removed
    reacted_at  TEXT    NOT NULL,   -- the event's own time (arrival time when it has none)
    delivery_id INTEGER NOT NULL REFERENCES webhook_deliveries (id),
    updated_at  TEXT    NOT NULL,
    UNIQUE (message_id, reactor)
);

-- Each edit of a message: the text it replaced. The message row holds the newest text.
CREATE TABLE message_edits (
    id            INTEGER PRIMARY KEY,
    message_id    INTEGER NOT NULL REFERENCES messages (id),
    previous_body TEXT,
    new_body      TEXT,
    edited_at     TEXT    NOT NULL,
    delivery_id   INTEGER NOT NULL REFERENCES webhook_deliveries (id)
);
CREATE INDEX message_edits_by_message ON message_edits (message_id, edited_at);

-- Reactions, edits and deletions that arrived before their message; applied and removed when the
-- message arrives (like pending_acks), expired with them after --pending-ack-days.
CREATE TABLE pending_message_changes (
    id          INTEGER PRIMARY KEY,
    session_id  TEXT    NOT NULL,
    message_ref TEXT    NOT NULL,   -- the target as the event names it: full id or bare key
    change      TEXT    NOT NULL CHECK (change IN ('reaction', 'edit', 'delete')),
    actor       TEXT,               -- the reactor, for a reaction
    value       TEXT,               -- the emoji, or the new text
    event_time  TEXT    NOT NULL,
    delivery_id INTEGER NOT NULL REFERENCES webhook_deliveries (id),
    received_at TEXT    NOT NULL
);
CREATE INDEX pending_message_changes_by_message ON pending_message_changes (session_id, message_ref);
CREATE INDEX pending_message_changes_by_age ON pending_message_changes (received_at);

-- A contact is one person (or group) in one session: a customer who writes to two of the
-- business's numbers is a contact of each. (Before, whatsapp_id was unique across sessions, so
-- the second session had no contact.) SQLite cannot change a UNIQUE constraint in place: the
-- table is rebuilt with the same columns and ids.
CREATE TABLE contacts_by_session (
    id               INTEGER PRIMARY KEY,
    whatsapp_id      TEXT    NOT NULL,
    session_id       TEXT    NOT NULL,
    phone_number     TEXT,
    is_group         INTEGER NOT NULL DEFAULT 0 CHECK (is_group IN (0, 1)),
    display_name     TEXT,
    first_message_at INTEGER,
    last_message_at  INTEGER,
    first_message_time TEXT GENERATED ALWAYS AS (strftime('%Y-%m-%dT%H:%M:%SZ', first_message_at, 'unixepoch')) VIRTUAL,
    last_message_time  TEXT GENERATED ALWAYS AS (strftime('%Y-%m-%dT%H:%M:%SZ', last_message_at, 'unixepoch')) VIRTUAL,
    created_at       TEXT    NOT NULL,
    updated_at       TEXT    NOT NULL,
    lid              TEXT,
    UNIQUE (session_id, whatsapp_id)
);
INSERT INTO contacts_by_session (id, whatsapp_id, session_id, phone_number, is_group, display_name,
    first_message_at, last_message_at, created_at, updated_at, lid)
SELECT id, whatsapp_id, session_id, phone_number, is_group, display_name, first_message_at, last_message_at,
    created_at, updated_at, lid FROM contacts;
DROP TABLE contacts;
ALTER TABLE contacts_by_session RENAME TO contacts;
CREATE INDEX contacts_by_last_activity ON contacts (last_message_at DESC, id DESC);
CREATE INDEX contacts_by_whatsapp_id ON contacts (whatsapp_id);

-- A contact of the second session that the old unique key kept out: one per (session, chat) that
-- has a conversation but no contact row.
INSERT INTO contacts (whatsapp_id, session_id, phone_number, is_group, created_at, updated_at, first_message_at, last_message_at)
SELECT c.contact, c.session_id,
       CASE WHEN c.contact LIKE '%@c.us' THEN substr(c.contact, 1, length(c.contact) - 5) END,
       CASE WHEN c.contact LIKE '%@g.us' THEN 1 ELSE 0 END,
       strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),
       (SELECT min(timestamp) FROM messages m WHERE m.session_id = c.session_id AND m.contact = c.contact),
       c.last_activity_at
FROM conversations c
WHERE NOT EXISTS (SELECT 1 FROM contacts k WHERE k.session_id = c.session_id AND k.whatsapp_id = c.contact);

-- Evolution API puts the instance's API key (which can send messages as the business) in every
-- body as `apikey`. New bodies are scrubbed before they are stored; this removes it from those
-- already stored. (The row's body_sha256 stays the hash of the body as received: still the
-- duplicate key of a retry.)
UPDATE webhook_deliveries SET body = json_set(body, '$.apikey', '[removed]')
WHERE provider = 'evolution' AND body <> '' AND json_valid(body) AND json_type(body, '$.apikey') = 'text';
