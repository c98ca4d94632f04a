-- Token scopes and the server's own secrets (issue 11).
--
-- A token's scope narrows what it may do below its user's role: '' acts as the user,
-- 'metrics' may read /metrics and /readyz and nothing else (a Prometheus scrape token, so
-- that no admin credential sits in a monitoring system).
ALTER TABLE api_tokens ADD COLUMN scope text NOT NULL DEFAULT ''
    CHECK (scope IN ('', 'metrics'));

-- Keys the server makes for itself on first use and every replica shares: the key that signs
-- device cookies (a browser that has logged in to an account before is not held back by the
-- per-address login limit). Never shown, never logged.
CREATE TABLE server_secrets (
    name       text PRIMARY KEY,
    secret     bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
