-- Issue 11: folded refusals in the audit log, and the answers kept for Idempotency-Key
-- (sql/postgis/006_write_records.sql is the same for PostGIS). Neither table is a layer:
-- they are not registered in gpkg_contents.

-- count: how many requests a row stands for (repeated anonymous refusals are folded into
-- one row); last_at: when the last of them came, NULL for a row of one request.
ALTER TABLE audit_log ADD COLUMN count INTEGER NOT NULL DEFAULT 1 CHECK (count >= 1);
ALTER TABLE audit_log ADD COLUMN last_at DATETIME NULL;

-- The answer of a creating write made with an Idempotency-Key, written in the write's
-- transaction. scope is the user's name: keys are per user.
CREATE TABLE idempotency_keys (
    scope        TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status       INTEGER NOT NULL,
    content_type TEXT NOT NULL DEFAULT '',
    location     TEXT NOT NULL DEFAULT '',
    etag         TEXT NOT NULL DEFAULT '',
    body         BLOB NOT NULL,
    created_at   DATETIME NOT NULL,
    expires_at   DATETIME NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_expires ON idempotency_keys (expires_at);
