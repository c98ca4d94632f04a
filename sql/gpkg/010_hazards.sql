-- Issue 14: hidden dangers (隐患) and their closed loop, their history, photos, and the
-- public's hazard reports (随手拍 / 安全隐患举报). Table and column names are those of the
-- PostGIS store (sql/postgis/011_hazards.sql); types are GeoPackage data types. Timestamps
-- are DATETIME text 'YYYY-MM-DDTHH:MM:SS.SSSZ' (UTC), dates DATE text, JSON is TEXT.
--
-- hazards is a features layer (registered in gpkg_contents, with a gpkg_rtree_index), so
-- that QGIS shows the hidden dangers where they are. The other tables are not registered.

CREATE TABLE hazards (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    code               TEXT NOT NULL UNIQUE,
    unit_id            INTEGER NOT NULL REFERENCES risk_units (id),
    unit_code          TEXT NOT NULL DEFAULT '',
    unit_name          TEXT NOT NULL DEFAULT '',
    category           TEXT NOT NULL DEFAULT '',
    region_code        TEXT NOT NULL DEFAULT '',
    department         TEXT NOT NULL DEFAULT '',
    level              TEXT NOT NULL CHECK (level IN ('general', 'major')),
    description        TEXT NOT NULL DEFAULT '',
    location           TEXT NOT NULL DEFAULT '',
    geom               POINT NOT NULL,
    found_at           DATETIME NOT NULL,
    found_by           TEXT NOT NULL DEFAULT '',
    source             TEXT NOT NULL CHECK (source IN ('inspection', 'self_inspection', 'public_report', 'monitoring')),
    report_id          INTEGER NOT NULL DEFAULT 0,
    responsible_unit   TEXT NOT NULL DEFAULT '',
    responsible_person TEXT NOT NULL DEFAULT '',
    measures           TEXT NOT NULL DEFAULT '',
    deadline           DATE NOT NULL,
    five               TEXT,
    supervision        TEXT,
    supervised         BOOLEAN NOT NULL DEFAULT 0, -- supervision IS NOT NULL, for the indexes
    extension          TEXT,
    status             TEXT NOT NULL CHECK (status IN ('registered', 'reported', 'rectifying', 'accepted', 'closed')),
    accepted_by        TEXT NOT NULL DEFAULT '',
    accepted_at        DATETIME,
    closed_by          TEXT NOT NULL DEFAULT '',
    closed_at          DATETIME,
    version            INTEGER NOT NULL CHECK (version > 0),
    created_by         TEXT NOT NULL DEFAULT '',
    created_at         DATETIME NOT NULL,
    updated_at         DATETIME NOT NULL
);
-- The open hidden dangers of a unit: what its dynamic grade depends on.
CREATE INDEX hazards_unit ON hazards (unit_id, found_at, id) WHERE status <> 'closed';
CREATE INDEX hazards_unit_all ON hazards (unit_id, id);
CREATE INDEX hazards_status ON hazards (status, id);
-- Overdue and due soon: the hidden dangers not yet accepted, by deadline, with what the
-- supervision view groups and scopes them by, so that counting them reads the index only.
CREATE INDEX hazards_pending ON hazards (deadline, status, category, region_code, department, level, supervised)
    WHERE status IN ('registered', 'reported', 'rectifying');
CREATE INDEX hazards_supervised ON hazards (id) WHERE supervised AND status <> 'closed';
CREATE INDEX hazards_level ON hazards (level, id);
CREATE INDEX hazards_department ON hazards (department, id);
CREATE INDEX hazards_region_code ON hazards (region_code);
CREATE INDEX hazards_category ON hazards (category, id);

-- How many hidden dangers there are of each category, region, department, level, status
-- and supervision: the whole city's statistics read these few rows instead of every
-- hidden danger. Kept by the triggers below, whoever writes the file; what depends on the
-- day (overdue, due soon) is counted from hazards_pending.
CREATE TABLE hazard_counts (
    category    TEXT NOT NULL,
    region_code TEXT NOT NULL,
    department  TEXT NOT NULL,
    level       TEXT NOT NULL,
    status      TEXT NOT NULL,
    supervised  BOOLEAN NOT NULL,
    n           INTEGER NOT NULL CHECK (n >= 0),
    PRIMARY KEY (category, region_code, department, level, status, supervised)
);
CREATE TRIGGER hazard_counts_insert AFTER INSERT ON hazards
BEGIN
    INSERT INTO hazard_counts (category, region_code, department, level, status, supervised, n)
    VALUES (NEW.category, NEW.region_code, NEW.department, NEW.level, NEW.status, NEW.supervised, 1)
    ON CONFLICT (category, region_code, department, level, status, supervised) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER hazard_counts_delete AFTER DELETE ON hazards
BEGIN
    UPDATE hazard_counts SET n = n - 1
    WHERE category = OLD.category AND region_code = OLD.region_code AND department = OLD.department
        AND level = OLD.level AND status = OLD.status AND supervised = OLD.supervised;
END;
CREATE TRIGGER hazard_counts_update AFTER UPDATE OF category, region_code, department, level, status, supervised ON hazards
WHEN OLD.category IS NOT NEW.category OR OLD.region_code IS NOT NEW.region_code OR OLD.department IS NOT NEW.department
    OR OLD.level IS NOT NEW.level OR OLD.status IS NOT NEW.status OR OLD.supervised IS NOT NEW.supervised
BEGIN
    UPDATE hazard_counts SET n = n - 1
    WHERE category = OLD.category AND region_code = OLD.region_code AND department = OLD.department
        AND level = OLD.level AND status = OLD.status AND supervised = OLD.supervised;
    INSERT INTO hazard_counts (category, region_code, department, level, status, supervised, n)
    VALUES (NEW.category, NEW.region_code, NEW.department, NEW.level, NEW.status, NEW.supervised, 1)
    ON CONFLICT (category, region_code, department, level, status, supervised) DO UPDATE SET n = n + 1;
END;

INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id) VALUES
    ('hazards', 'features', 'hazards', '隐患 (hidden dangers) of the risk units and their closed loop', 4326);
INSERT INTO gpkg_geometry_columns (table_name, column_name, geometry_type_name, srs_id, z, m) VALUES
    ('hazards', 'geom', 'POINT', 4326, 0, 0);
INSERT INTO gpkg_extensions (table_name, column_name, extension_name, definition, scope) VALUES
    ('hazards', 'geom', 'gpkg_rtree_index', 'http://www.geopackage.org/spec120/#extension_rtree', 'write-only');

CREATE VIRTUAL TABLE rtree_hazards_geom USING rtree(id, minx, maxx, miny, maxy);

CREATE TRIGGER rtree_hazards_geom_insert AFTER INSERT ON hazards
WHEN (new.geom NOT NULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN
    INSERT OR REPLACE INTO rtree_hazards_geom VALUES (
        NEW.id, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom));
END;

CREATE TRIGGER rtree_hazards_geom_update1 AFTER UPDATE OF geom ON hazards
WHEN OLD.id = NEW.id AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN
    INSERT OR REPLACE INTO rtree_hazards_geom VALUES (
        NEW.id, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom));
END;

CREATE TRIGGER rtree_hazards_geom_update2 AFTER UPDATE OF geom ON hazards
WHEN OLD.id = NEW.id AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
BEGIN
    DELETE FROM rtree_hazards_geom WHERE id = OLD.id;
END;

CREATE TRIGGER rtree_hazards_geom_update3 AFTER UPDATE ON hazards
WHEN OLD.id != NEW.id AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN
    DELETE FROM rtree_hazards_geom WHERE id = OLD.id;
    INSERT OR REPLACE INTO rtree_hazards_geom VALUES (
        NEW.id, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom));
END;

CREATE TRIGGER rtree_hazards_geom_update4 AFTER UPDATE ON hazards
WHEN OLD.id != NEW.id AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
BEGIN
    DELETE FROM rtree_hazards_geom WHERE id IN (OLD.id, NEW.id);
END;

CREATE TRIGGER rtree_hazards_geom_delete AFTER DELETE ON hazards
WHEN old.geom NOT NULL
BEGIN
    DELETE FROM rtree_hazards_geom WHERE id = OLD.id;
END;

-- A hidden danger's history. Append-only, as the audit log.
CREATE TABLE hazard_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    hazard_id   INTEGER NOT NULL REFERENCES hazards (id),
    kind        TEXT NOT NULL,
    from_status TEXT NOT NULL DEFAULT '',
    to_status   TEXT NOT NULL DEFAULT '',
    by_user     TEXT NOT NULL DEFAULT '',
    at          DATETIME NOT NULL,
    note        TEXT NOT NULL DEFAULT '',
    data        TEXT
);
CREATE INDEX hazard_events_hazard ON hazard_events (hazard_id, id);
CREATE TRIGGER hazard_events_no_update BEFORE UPDATE ON hazard_events
BEGIN
    SELECT RAISE(ABORT, 'hazard_events is append-only');
END;
CREATE TRIGGER hazard_events_no_delete BEFORE DELETE ON hazard_events
BEGIN
    SELECT RAISE(ABORT, 'hazard_events is append-only');
END;

-- Photos of hidden dangers and reports, re-encoded on upload (no metadata).
CREATE TABLE photos (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    owner        TEXT NOT NULL CHECK (owner IN ('hazard', 'report')),
    owner_id     INTEGER NOT NULL,
    stage        TEXT NOT NULL,
    content_type TEXT NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png')),
    width        INTEGER NOT NULL,
    height       INTEGER NOT NULL,
    bytes        BLOB NOT NULL,
    by_user      TEXT NOT NULL DEFAULT '',
    at           DATETIME NOT NULL
);
CREATE INDEX photos_owner ON photos (owner, owner_id, id);

-- The public's reports; not a map layer: nothing here reaches the public map.
CREATE TABLE hazard_reports (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    tracking_number TEXT NOT NULL UNIQUE,
    lon             DOUBLE NOT NULL,
    lat             DOUBLE NOT NULL,
    category        TEXT NOT NULL DEFAULT '',
    description     TEXT NOT NULL DEFAULT '',
    contact         TEXT NOT NULL DEFAULT '',
    region_code     TEXT NOT NULL DEFAULT '',
    department      TEXT NOT NULL DEFAULT '',
    client_hash     TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL CHECK (status IN ('received', 'converted', 'dismissed')),
    hazard_id       INTEGER NOT NULL DEFAULT 0,
    reason          TEXT NOT NULL DEFAULT '',
    handled_by      TEXT NOT NULL DEFAULT '',
    handled_at      DATETIME,
    version         INTEGER NOT NULL CHECK (version > 0),
    created_at      DATETIME NOT NULL,
    updated_at      DATETIME NOT NULL
);
CREATE INDEX hazard_reports_status ON hazard_reports (status, id);
CREATE INDEX hazard_reports_region_code ON hazard_reports (region_code);
