-- Issue 16: protective targets (防护目标) and emergency shelters (应急避难场所) become managed
-- layers, written one by one with If-Match: each row gets a version (its ETag) and the time
-- of its last write (DATETIME text, UTC), as sql/postgis/012_sites.sql. Both tables stay
-- registered features layers with their gpkg_rtree_index triggers (those fire on geom and
-- id, which this leaves alone). SQLite adds a NOT NULL column only with a constant default:
-- the rows there are get the time of the migration.
ALTER TABLE protective_targets ADD COLUMN version INTEGER NOT NULL DEFAULT 1 CHECK (version > 0);
ALTER TABLE protective_targets ADD COLUMN updated_at DATETIME NOT NULL DEFAULT '1970-01-01T00:00:00.000Z';
ALTER TABLE shelters ADD COLUMN version INTEGER NOT NULL DEFAULT 1 CHECK (version > 0);
ALTER TABLE shelters ADD COLUMN updated_at DATETIME NOT NULL DEFAULT '1970-01-01T00:00:00.000Z';
UPDATE protective_targets SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now');
UPDATE shelters SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now');
UPDATE gpkg_contents SET last_change = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
    WHERE table_name IN ('protective_targets', 'shelters');
