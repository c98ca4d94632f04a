-- The register, regions, sites and users. Column names are those of the PostGIS store
-- (sql/postgis/001_init.sql) so that QGIS users and scripts see the same tables in both.
-- Types are GeoPackage data types: validators reject anything else in a features table.
-- Timestamps are DATETIME text 'YYYY-MM-DDTHH:MM:SS.SSSZ' (UTC) and dates DATE text
-- 'YYYY-MM-DD'; lists and structured values are JSON text.

CREATE TABLE risk_units (
    id                     INTEGER PRIMARY KEY AUTOINCREMENT,
    code                   TEXT NOT NULL,
    name                   TEXT NOT NULL,
    category               TEXT NOT NULL,
    sub_category           TEXT NOT NULL DEFAULT '',
    region_code            TEXT NOT NULL,
    address                TEXT NOT NULL DEFAULT '',
    accident_types         TEXT NOT NULL DEFAULT '[]',
    major_hazard_level     SMALLINT CHECK (major_hazard_level BETWEEN 1 AND 4),
    major_risk_factors     TEXT NOT NULL DEFAULT '',
    assessment_method      TEXT NOT NULL CHECK (assessment_method IN ('LS', 'LEC')),
    assessment             TEXT NOT NULL,
    direct_major_reason    TEXT NOT NULL DEFAULT '',
    risk_value             DOUBLE NOT NULL,
    grade                  TEXT NOT NULL CHECK (grade IN ('red', 'orange', 'yellow', 'blue')),
    grade_label            TEXT NOT NULL,
    grade_explanation      TEXT NOT NULL,
    controls               TEXT NOT NULL,
    responsible_department TEXT NOT NULL DEFAULT '',
    responsible_unit       TEXT NOT NULL DEFAULT '',
    contact_person         TEXT NOT NULL DEFAULT '',
    contact_phone          TEXT NOT NULL DEFAULT '',
    influence_radius_m     DOUBLE NOT NULL DEFAULT 0,
    status                 TEXT NOT NULL CHECK (status IN ('draft', 'submitted', 'approved', 'retired')),
    version                INTEGER NOT NULL,
    created_at             DATETIME NOT NULL,
    updated_at             DATETIME NOT NULL,
    assessed_by            TEXT NOT NULL DEFAULT '',
    assessed_at            DATETIME,
    next_review_due        DATE,
    geom                   GEOMETRY NOT NULL
);

-- A retired unit keeps its code in the record; a new unit may reuse it.
CREATE UNIQUE INDEX risk_units_code_active ON risk_units (code) WHERE status <> 'retired';
CREATE INDEX risk_units_category ON risk_units (category);
CREATE INDEX risk_units_grade ON risk_units (grade);
-- Prefix searches use region_code >= ? AND region_code < ?, which this index serves.
CREATE INDEX risk_units_region_code ON risk_units (region_code);
CREATE INDEX risk_units_status ON risk_units (status);

CREATE TABLE regions (
    fid         INTEGER PRIMARY KEY AUTOINCREMENT,
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    level       TEXT NOT NULL CHECK (level IN ('district', 'street', 'community', 'grid')),
    parent_code TEXT NOT NULL DEFAULT '',
    population  INTEGER NOT NULL DEFAULT 0,
    geom        MULTIPOLYGON NOT NULL
);
CREATE INDEX regions_level ON regions (level);

CREATE TABLE protective_targets (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    region_code TEXT NOT NULL DEFAULT '',
    address     TEXT NOT NULL DEFAULT '',
    people      INTEGER NOT NULL DEFAULT 0,
    geom        GEOMETRY NOT NULL
);

CREATE TABLE shelters (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    name              TEXT NOT NULL,
    kind              TEXT NOT NULL,
    region_code       TEXT NOT NULL DEFAULT '',
    address           TEXT NOT NULL DEFAULT '',
    capacity          INTEGER NOT NULL DEFAULT 0,
    effective_area_m2 DOUBLE NOT NULL DEFAULT 0,
    service_radius_m  DOUBLE NOT NULL DEFAULT 0,
    geom              GEOMETRY NOT NULL
);

-- Not registered in gpkg_contents: QGIS and GDAL still list it (LIST_ALL_TABLES=AUTO), so
-- anyone holding the file holds the password hashes too.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'expert', 'department')),
    department    TEXT NOT NULL DEFAULT '',
    categories    TEXT NOT NULL DEFAULT '[]',
    regions       TEXT NOT NULL DEFAULT '[]',
    password_hash TEXT NOT NULL,
    disabled      BOOLEAN NOT NULL DEFAULT 0,
    created_at    DATETIME NOT NULL
);

-- Bounds start unknown (NULL) and are widened by the store on every write.
INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id) VALUES
    ('risk_units', 'features', 'risk_units', '风险辨识单元 (risk identification units): the risk register', 4326),
    ('regions', 'features', 'regions', '区域 (districts, streets, communities, grids) of the regional four-colour map', 4326),
    ('protective_targets', 'features', 'protective_targets', '高敏感防护目标 (high-sensitivity protective targets)', 4326),
    ('shelters', 'features', 'shelters', '应急避难场所 (emergency shelters)', 4326);

INSERT INTO gpkg_geometry_columns (table_name, column_name, geometry_type_name, srs_id, z, m) VALUES
    ('risk_units', 'geom', 'GEOMETRY', 4326, 0, 0),
    ('regions', 'geom', 'MULTIPOLYGON', 4326, 0, 0),
    ('protective_targets', 'geom', 'GEOMETRY', 4326, 0, 0),
    ('shelters', 'geom', 'GEOMETRY', 4326, 0, 0);

-- Spatial indexes (GeoPackage extension F.3, gpkg_rtree_index), so that QGIS and GDAL
-- read only the features in view. The triggers are the specification's (1.2/1.3 form);
-- they call ST_IsEmpty and ST_MinX..ST_MaxY, which every writer of the file must provide:
-- GDAL does, and the store registers them on each of its connections. The store also uses
-- the risk_units index for bbox filters.
INSERT INTO gpkg_extensions (table_name, column_name, extension_name, definition, scope) VALUES
    ('risk_units', 'geom', 'gpkg_rtree_index', 'http://www.geopackage.org/spec120/#extension_rtree', 'write-only'),
    ('regions', 'geom', 'gpkg_rtree_index', 'http://www.geopackage.org/spec120/#extension_rtree', 'write-only'),
    ('protective_targets', 'geom', 'gpkg_rtree_index', 'http://www.geopackage.org/spec120/#extension_rtree', 'write-only'),
    ('shelters', 'geom', 'gpkg_rtree_index', 'http://www.geopackage.org/spec120/#extension_rtree', 'write-only');

CREATE VIRTUAL TABLE rtree_risk_units_geom USING rtree(id, minx, maxx, miny, maxy);

CREATE TRIGGER rtree_risk_units_geom_insert AFTER INSERT ON risk_units
WHEN (new.geom NOT NULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN
    INSERT OR REPLACE INTO rtree_risk_units_geom VALUES (
        NEW.id, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom));
END;

CREATE TRIGGER rtree_risk_units_geom_update1 AFTER UPDATE OF geom ON risk_units
WHEN OLD.id = NEW.id AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN
    INSERT OR REPLACE INTO rtree_risk_units_geom VALUES (
        NEW.id, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom));
END;

CREATE TRIGGER rtree_risk_units_geom_update2 AFTER UPDATE OF geom ON risk_units
WHEN OLD.id = NEW.id AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
BEGIN
    DELETE FROM rtree_risk_units_geom WHERE id = OLD.id;
END;

CREATE TRIGGER rtree_risk_units_geom_update3 AFTER UPDATE ON risk_units
WHEN OLD.id != NEW.id AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN
    DELETE FROM rtree_risk_units_geom WHERE id = OLD.id;
    INSERT OR REPLACE INTO rtree_risk_units_geom VALUES (
        NEW.id, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom));
END;

CREATE TRIGGER rtree_risk_units_geom_update4 AFTER UPDATE ON risk_units
WHEN OLD.id != NEW.id AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
BEGIN
    DELETE FROM rtree_risk_units_geom WHERE id IN (OLD.id, NEW.id);
END;

CREATE TRIGGER rtree_risk_units_geom_delete AFTER DELETE ON risk_units
WHEN old.geom NOT NULL
BEGIN
    DELETE FROM rtree_risk_units_geom WHERE id = OLD.id;
END;

CREATE VIRTUAL TABLE rtree_regions_geom USING rtree(id, minx, maxx, miny, maxy);

CREATE TRIGGER rtree_regions_geom_insert AFTER INSERT ON regions
WHEN (new.geom NOT NULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN
    INSERT OR REPLACE INTO rtree_regions_geom VALUES (
        NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom));
END;

CREATE TRIGGER rtree_regions_geom_update1 AFTER UPDATE OF geom ON regions
WHEN OLD.fid = NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN
    INSERT OR REPLACE INTO rtree_regions_geom VALUES (
        NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom));
END;

CREATE TRIGGER rtree_regions_geom_update2 AFTER UPDATE OF geom ON regions
WHEN OLD.fid = NEW.fid AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
BEGIN
    DELETE FROM rtree_regions_geom WHERE id = OLD.fid;
END;

CREATE TRIGGER rtree_regions_geom_update3 AFTER UPDATE ON regions
WHEN OLD.fid != NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN
    DELETE FROM rtree_regions_geom WHERE id = OLD.fid;
    INSERT OR REPLACE INTO rtree_regions_geom VALUES (
        NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom));
END;

CREATE TRIGGER rtree_regions_geom_update4 AFTER UPDATE ON regions
WHEN OLD.fid != NEW.fid AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
BEGIN
    DELETE FROM rtree_regions_geom WHERE id IN (OLD.fid, NEW.fid);
END;

CREATE TRIGGER rtree_regions_geom_delete AFTER DELETE ON regions
WHEN old.geom NOT NULL
BEGIN
    DELETE FROM rtree_regions_geom WHERE id = OLD.fid;
END;

CREATE VIRTUAL TABLE rtree_protective_targets_geom USING rtree(id, minx, maxx, miny, maxy);

CREATE TRIGGER rtree_protective_targets_geom_insert AFTER INSERT ON protective_targets
WHEN (new.geom NOT NULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN
    INSERT OR REPLACE INTO rtree_protective_targets_geom VALUES (
        NEW.id, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom));
END;

CREATE TRIGGER rtree_protective_targets_geom_update1 AFTER UPDATE OF geom ON protective_targets
WHEN OLD.id = NEW.id AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN
    INSERT OR REPLACE INTO rtree_protective_targets_geom VALUES (
        NEW.id, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom));
END;

CREATE TRIGGER rtree_protective_targets_geom_update2 AFTER UPDATE OF geom ON protective_targets
WHEN OLD.id = NEW.id AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
BEGIN
    DELETE FROM rtree_protective_targets_geom WHERE id = OLD.id;
END;

CREATE TRIGGER rtree_protective_targets_geom_update3 AFTER UPDATE ON protective_targets
WHEN OLD.id != NEW.id AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN
    DELETE FROM rtree_protective_targets_geom WHERE id = OLD.id;
    INSERT OR REPLACE INTO rtree_protective_targets_geom VALUES (
        NEW.id, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom));
END;

CREATE TRIGGER rtree_protective_targets_geom_update4 AFTER UPDATE ON protective_targets
WHEN OLD.id != NEW.id AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
BEGIN
    DELETE FROM rtree_protective_targets_geom WHERE id IN (OLD.id, NEW.id);
END;

CREATE TRIGGER rtree_protective_targets_geom_delete AFTER DELETE ON protective_targets
WHEN old.geom NOT NULL
BEGIN
    DELETE FROM rtree_protective_targets_geom WHERE id = OLD.id;
END;

CREATE VIRTUAL TABLE rtree_shelters_geom USING rtree(id, minx, maxx, miny, maxy);

CREATE TRIGGER rtree_shelters_geom_insert AFTER INSERT ON shelters
WHEN (new.geom NOT NULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN
    INSERT OR REPLACE INTO rtree_shelters_geom VALUES (
        NEW.id, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom));
END;

CREATE TRIGGER rtree_shelters_geom_update1 AFTER UPDATE OF geom ON shelters
WHEN OLD.id = NEW.id AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN
    INSERT OR REPLACE INTO rtree_shelters_geom VALUES (
        NEW.id, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom));
END;

CREATE TRIGGER rtree_shelters_geom_update2 AFTER UPDATE OF geom ON shelters
WHEN OLD.id = NEW.id AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
BEGIN
    DELETE FROM rtree_shelters_geom WHERE id = OLD.id;
END;

CREATE TRIGGER rtree_shelters_geom_update3 AFTER UPDATE ON shelters
WHEN OLD.id != NEW.id AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN
    DELETE FROM rtree_shelters_geom WHERE id = OLD.id;
    INSERT OR REPLACE INTO rtree_shelters_geom VALUES (
        NEW.id, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom));
END;

CREATE TRIGGER rtree_shelters_geom_update4 AFTER UPDATE ON shelters
WHEN OLD.id != NEW.id AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
BEGIN
    DELETE FROM rtree_shelters_geom WHERE id IN (OLD.id, NEW.id);
END;

CREATE TRIGGER rtree_shelters_geom_delete AFTER DELETE ON shelters
WHEN old.geom NOT NULL
BEGIN
    DELETE FROM rtree_shelters_geom WHERE id = OLD.id;
END;
