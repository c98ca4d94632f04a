-- Issue 17: device tokens (scope 'readings'); see sql/postgis/014_device_tokens.sql.
-- SQLite cannot change a CHECK constraint: the table is rebuilt with the new one, its rows
-- and ids kept. No table refers to api_tokens.
CREATE TABLE api_tokens_new (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT NOT NULL,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash   TEXT NOT NULL UNIQUE,
    created_by   TEXT NOT NULL DEFAULT '',
    created_at   DATETIME NOT NULL,
    last_used_at DATETIME,
    revoked_at   DATETIME,
    scope        TEXT NOT NULL DEFAULT '' CHECK (scope IN ('', 'metrics', 'readings'))
);
INSERT INTO api_tokens_new (id, name, user_id, token_hash, created_by, created_at, last_used_at, revoked_at, scope)
    SELECT id, name, user_id, token_hash, created_by, created_at, last_used_at, revoked_at, scope FROM api_tokens;
DROP TABLE api_tokens;
ALTER TABLE api_tokens_new RENAME TO api_tokens;
CREATE INDEX api_tokens_user_id ON api_tokens (user_id);
