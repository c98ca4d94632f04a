-- Issue 11: folded refusals in the audit log, and the answers kept for Idempotency-Key
-- (sql/gpkg/005_write_records.sql is the same for the GeoPackage store).

-- count: how many requests a row stands for (repeated anonymous refusals are folded into
-- one row); last_at: when the last of them came, NULL for a row of one request.
ALTER TABLE audit_log
    ADD COLUMN count integer NOT NULL DEFAULT 1 CHECK (count >= 1),
    ADD COLUMN last_at timestamptz NULL;

-- The answer of a creating write made with an Idempotency-Key, written in the write's
-- transaction. scope is the user's name: keys are per user.
CREATE TABLE idempotency_keys (
    scope        text NOT NULL,
    key          text NOT NULL,
    request_hash text NOT NULL,
    status       integer NOT NULL,
    content_type text NOT NULL DEFAULT '',
    location     text NOT NULL DEFAULT '',
    etag         text NOT NULL DEFAULT '',
    body         bytea NOT NULL,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_expires ON idempotency_keys (expires_at);
