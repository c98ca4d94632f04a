-- Issue 17: monitoring and early warning (监测预警), as sql/postgis/013_monitoring.sql:
-- monitoring points (a features layer with its gpkg_rtree_index, so that QGIS shows them),
-- their readings, the minute and hour rollups of the readings, and alarms (not registered,
-- like users). Readings are not partitioned here. Times of readings and rollups are INTEGER
-- milliseconds since 1970 (UTC) for compactness; other times DATETIME text.

CREATE TABLE monitoring_points (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    code            TEXT NOT NULL UNIQUE,
    unit_id         INTEGER NOT NULL REFERENCES risk_units (id),
    kind            TEXT NOT NULL,
    unit_of_measure TEXT NOT NULL,
    geom            POINT NOT NULL,
    interval_s      INTEGER NOT NULL CHECK (interval_s > 0),
    thresholds      TEXT NOT NULL,
    version         INTEGER NOT NULL CHECK (version > 0),
    updated_at      DATETIME NOT NULL
);
CREATE INDEX monitoring_points_unit ON monitoring_points (unit_id, id);

INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id) VALUES
    ('monitoring_points', 'features', 'monitoring_points', '监测点 (monitoring points) of the risk units', 4326);
INSERT INTO gpkg_geometry_columns (table_name, column_name, geometry_type_name, srs_id, z, m) VALUES
    ('monitoring_points', 'geom', 'POINT', 4326, 0, 0);
INSERT INTO gpkg_extensions (table_name, column_name, extension_name, definition, scope) VALUES
    ('monitoring_points', 'geom', 'gpkg_rtree_index', 'http://www.geopackage.org/spec120/#extension_rtree', 'write-only');

CREATE VIRTUAL TABLE rtree_monitoring_points_geom USING rtree(id, minx, maxx, miny, maxy);

CREATE TRIGGER rtree_monitoring_points_geom_insert AFTER INSERT ON monitoring_points
WHEN (new.geom NOT NULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN
    INSERT OR REPLACE INTO rtree_monitoring_points_geom VALUES (
        NEW.id, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom));
END;

CREATE TRIGGER rtree_monitoring_points_geom_update1 AFTER UPDATE OF geom ON monitoring_points
WHEN OLD.id = NEW.id AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN
    INSERT OR REPLACE INTO rtree_monitoring_points_geom VALUES (
        NEW.id, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom));
END;

CREATE TRIGGER rtree_monitoring_points_geom_update2 AFTER UPDATE OF geom ON monitoring_points
WHEN OLD.id = NEW.id AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
BEGIN
    DELETE FROM rtree_monitoring_points_geom WHERE id = OLD.id;
END;

CREATE TRIGGER rtree_monitoring_points_geom_update3 AFTER UPDATE ON monitoring_points
WHEN OLD.id != NEW.id AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN
    DELETE FROM rtree_monitoring_points_geom WHERE id = OLD.id;
    INSERT OR REPLACE INTO rtree_monitoring_points_geom VALUES (
        NEW.id, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom));
END;

CREATE TRIGGER rtree_monitoring_points_geom_update4 AFTER UPDATE ON monitoring_points
WHEN OLD.id != NEW.id AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
BEGIN
    DELETE FROM rtree_monitoring_points_geom WHERE id IN (OLD.id, NEW.id);
END;

CREATE TRIGGER rtree_monitoring_points_geom_delete AFTER DELETE ON monitoring_points
WHEN old.geom NOT NULL
BEGIN
    DELETE FROM rtree_monitoring_points_geom WHERE id = OLD.id;
END;

CREATE TABLE readings (
    point_id INTEGER NOT NULL,
    at       INTEGER NOT NULL, -- ms since 1970, UTC
    value    DOUBLE NOT NULL,
    PRIMARY KEY (point_id, at)
) WITHOUT ROWID;
CREATE INDEX readings_at ON readings (at);

-- Rollups, kept by the trigger below on every new reading (INSERT OR IGNORE fires it only
-- for new ones). avg = total / n.
CREATE TABLE readings_1m (
    point_id INTEGER NOT NULL,
    bucket   INTEGER NOT NULL,
    min      DOUBLE NOT NULL,
    max      DOUBLE NOT NULL,
    total    DOUBLE NOT NULL,
    n        INTEGER NOT NULL CHECK (n > 0),
    PRIMARY KEY (point_id, bucket)
) WITHOUT ROWID;
CREATE TABLE readings_1h (
    point_id INTEGER NOT NULL,
    bucket   INTEGER NOT NULL,
    min      DOUBLE NOT NULL,
    max      DOUBLE NOT NULL,
    total    DOUBLE NOT NULL,
    n        INTEGER NOT NULL CHECK (n > 0),
    PRIMARY KEY (point_id, bucket)
) WITHOUT ROWID;
CREATE TRIGGER readings_rollup AFTER INSERT ON readings
BEGIN
    INSERT INTO readings_1m (point_id, bucket, min, max, total, n)
    VALUES (NEW.point_id, NEW.at - (NEW.at % 60000), NEW.value, NEW.value, NEW.value, 1)
    ON CONFLICT (point_id, bucket) DO UPDATE SET min = min(min, excluded.min), max = max(max, excluded.max),
        total = total + excluded.total, n = n + 1;
    INSERT INTO readings_1h (point_id, bucket, min, max, total, n)
    VALUES (NEW.point_id, NEW.at - (NEW.at % 3600000), NEW.value, NEW.value, NEW.value, 1)
    ON CONFLICT (point_id, bucket) DO UPDATE SET min = min(min, excluded.min), max = max(max, excluded.max),
        total = total + excluded.total, n = n + 1;
END;

CREATE TABLE alarms (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    code            TEXT NOT NULL UNIQUE,
    point_id        INTEGER NOT NULL REFERENCES monitoring_points (id),
    unit_id         INTEGER NOT NULL,
    rule            TEXT NOT NULL CHECK (rule IN ('threshold', 'offline')),
    level           TEXT NOT NULL CHECK (level IN ('blue', 'yellow', 'orange', 'red')),
    status          TEXT NOT NULL CHECK (status IN ('active', 'acknowledged', 'disposed', 'closed')),
    side            TEXT NOT NULL DEFAULT '',
    normal          BOOLEAN NOT NULL DEFAULT 0,
    opened_at       DATETIME NOT NULL,
    escalated_at    DATETIME,
    acknowledged_at DATETIME,
    acknowledged_by TEXT NOT NULL DEFAULT '',
    disposed_at     DATETIME,
    disposed_by     TEXT NOT NULL DEFAULT '',
    action          TEXT NOT NULL DEFAULT '',
    normal_at       DATETIME,
    closed_at       DATETIME,
    peak            DOUBLE NOT NULL,
    peak_at         DATETIME NOT NULL,
    last_value      DOUBLE NOT NULL,
    version         INTEGER NOT NULL CHECK (version > 0)
);
-- One open alarm per (point, rule), whoever writes.
CREATE UNIQUE INDEX alarms_one_open ON alarms (point_id, rule) WHERE status <> 'closed';
CREATE INDEX alarms_unit ON alarms (unit_id, id);
CREATE INDEX alarms_point ON alarms (point_id, id);
CREATE INDEX alarms_status ON alarms (status, id);
