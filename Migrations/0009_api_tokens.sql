-- 0009: API tokens with a role, beside the token set at start (which stays an admin token).
-- Only a SHA-256 of each token is kept; the token itself is shown once, when it is created.
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    name         TEXT    NOT NULL UNIQUE CHECK (name <> ''),
    token_prefix TEXT    NOT NULL,   -- its first characters (il_…), to recognise it in lists
    token_sha256 TEXT    NOT NULL UNIQUE CHECK (length(token_sha256) = 64),
    role         TEXT    NOT NULL CHECK (role IN ('read', 'admin')),
    created_at   TEXT    NOT NULL,
    expires_at   TEXT,               -- NULL: never
    revoked_at   TEXT,               -- set by `inboxlite token revoke` / DELETE /api/admin/tokens/{id}
    last_used_at TEXT                -- recorded at most once a minute per token
);
