-- Token scopes and the server's own secrets (issue 11); see sql/postgis/005_edge.sql.
ALTER TABLE api_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT ''
    CHECK (scope IN ('', 'metrics'));

-- Not registered in gpkg_contents, like users.
CREATE TABLE server_secrets (
    name       TEXT PRIMARY KEY,
    secret     BLOB NOT NULL,
    created_at DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
