-- Access (sessions, API tokens), the audit log, review state, the approved register and
-- publications. Table and column names are those of the PostGIS store
-- (sql/postgis/004_access.sql). Timestamps are DATETIME text 'YYYY-MM-DDTHH:MM:SS.SSSZ'
-- (UTC), which sorts and compares as text; JSON is TEXT.
--
-- Only approved_units is registered in gpkg_contents: it is a layer a QGIS user may want
-- (the register as last approved). Its unit_id is the INTEGER PRIMARY KEY a features table
-- needs. The other tables are not registered, like users; QGIS and GDAL still list them.

CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf         TEXT NOT NULL,
    created_at   DATETIME NOT NULL,
    last_seen_at DATETIME NOT NULL,
    expires_at   DATETIME NOT NULL,
    client_addr  TEXT NOT NULL DEFAULT '',
    user_agent   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user_id ON sessions (user_id);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT NOT NULL,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash   TEXT NOT NULL UNIQUE,
    created_by   TEXT NOT NULL DEFAULT '',
    created_at   DATETIME NOT NULL,
    last_used_at DATETIME,
    revoked_at   DATETIME
);
CREATE INDEX api_tokens_user_id ON api_tokens (user_id);

-- The 操作日志. AUTOINCREMENT: an id is never handed out twice, even after the newest rows
-- are lost with a file restored from a backup.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          DATETIME NOT NULL,
    actor       TEXT NOT NULL DEFAULT '',
    role        TEXT NOT NULL DEFAULT '',
    action      TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    status      INTEGER NOT NULL DEFAULT 0,
    method      TEXT NOT NULL DEFAULT '',
    path        TEXT NOT NULL DEFAULT '',
    client_addr TEXT NOT NULL DEFAULT '',
    target_type TEXT NOT NULL DEFAULT '',
    target_id   TEXT NOT NULL DEFAULT '',
    detail      TEXT NOT NULL DEFAULT '',
    before      TEXT,
    after       TEXT
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_actor ON audit_log (actor, id);
CREATE INDEX audit_log_action ON audit_log (action, id);
CREATE INDEX audit_log_target ON audit_log (target_type, target_id, id);

-- Append-only, whoever writes the file. (Anyone holding the file can still drop the
-- triggers; the log is evidence against mistakes and casual tampering, not against the
-- file's owner.)
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TABLE unit_authors (
    unit_id          INTEGER PRIMARY KEY REFERENCES risk_units (id) ON DELETE CASCADE,
    created_by       TEXT NOT NULL DEFAULT '',
    updated_by       TEXT NOT NULL DEFAULT '',
    submitted_by     TEXT NOT NULL DEFAULT '',
    submitted_at     DATETIME,
    reviewed_by      TEXT NOT NULL DEFAULT '',
    reviewed_at      DATETIME,
    approved_version INTEGER NOT NULL DEFAULT 0
);

-- The approved register: the last approved revision of every unit that is not retired.
-- The store keeps it in the transaction of each write of risk_units.
CREATE TABLE approved_units (
    unit_id     INTEGER PRIMARY KEY,
    version     INTEGER NOT NULL,
    code        TEXT NOT NULL,
    name        TEXT NOT NULL,
    category    TEXT NOT NULL,
    region_code TEXT NOT NULL,
    grade       TEXT NOT NULL CHECK (grade IN ('red', 'orange', 'yellow', 'blue')),
    risk_value  DOUBLE NOT NULL,
    geom        GEOMETRY NOT NULL,
    approved_by TEXT NOT NULL DEFAULT '',
    approved_at DATETIME NOT NULL
);

INSERT INTO approved_units (unit_id, version, code, name, category, region_code, grade, risk_value, geom, approved_by, approved_at)
SELECT id, version, code, name, category, region_code, grade, risk_value, geom, '', updated_at
FROM risk_units WHERE status = 'approved';

INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id) VALUES
    ('approved_units', 'features', 'approved_units', '已审核风险单元 (the approved register: the last approved revision of each unit)', 4326);
INSERT INTO gpkg_geometry_columns (table_name, column_name, geometry_type_name, srs_id, z, m) VALUES
    ('approved_units', 'geom', 'GEOMETRY', 4326, 0, 0);

-- The bounds of what was copied; the store widens them on every approval after this.
UPDATE gpkg_contents SET
    min_x = (SELECT min(ST_MinX(geom)) FROM approved_units WHERE NOT ST_IsEmpty(geom)),
    min_y = (SELECT min(ST_MinY(geom)) FROM approved_units WHERE NOT ST_IsEmpty(geom)),
    max_x = (SELECT max(ST_MaxX(geom)) FROM approved_units WHERE NOT ST_IsEmpty(geom)),
    max_y = (SELECT max(ST_MaxY(geom)) FROM approved_units WHERE NOT ST_IsEmpty(geom))
WHERE table_name = 'approved_units';

-- Publications are immutable, numbered snapshots of the approved register.
CREATE TABLE publications (
    number     INTEGER PRIMARY KEY CHECK (number > 0),
    created_at DATETIME NOT NULL,
    created_by TEXT NOT NULL DEFAULT '',
    note       TEXT NOT NULL DEFAULT '',
    unit_count INTEGER NOT NULL,
    regions    TEXT NOT NULL
);

CREATE TABLE publication_units (
    publication INTEGER NOT NULL REFERENCES publications (number),
    unit_id     INTEGER NOT NULL,
    version     INTEGER NOT NULL,
    code        TEXT NOT NULL,
    name        TEXT NOT NULL,
    category    TEXT NOT NULL,
    region_code TEXT NOT NULL,
    grade       TEXT NOT NULL,
    risk_value  DOUBLE NOT NULL,
    geom        GEOMETRY NOT NULL,
    PRIMARY KEY (publication, unit_id)
);

CREATE TRIGGER publications_no_update BEFORE UPDATE ON publications
BEGIN
    SELECT RAISE(ABORT, 'publications are immutable');
END;
CREATE TRIGGER publications_no_delete BEFORE DELETE ON publications
BEGIN
    SELECT RAISE(ABORT, 'publications are immutable');
END;
CREATE TRIGGER publication_units_no_update BEFORE UPDATE ON publication_units
BEGIN
    SELECT RAISE(ABORT, 'publications are immutable');
END;
CREATE TRIGGER publication_units_no_delete BEFORE DELETE ON publication_units
BEGIN
    SELECT RAISE(ABORT, 'publications are immutable');
END;
