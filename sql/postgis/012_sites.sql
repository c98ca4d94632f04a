-- Issue 16: protective targets (防护目标) and emergency shelters (应急避难场所) become managed
-- layers, written one by one with If-Match: each row gets a version (its ETag) and the time
-- of its last write. sql/gpkg/011_sites.sql is the same for the GeoPackage store.
ALTER TABLE protective_targets
    ADD COLUMN version bigint NOT NULL DEFAULT 1 CHECK (version > 0),
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE shelters
    ADD COLUMN version bigint NOT NULL DEFAULT 1 CHECK (version > 0),
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
