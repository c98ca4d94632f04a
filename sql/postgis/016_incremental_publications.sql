-- Issue 18: a publication stores what changed since the one before, not a copy of the
-- register. A row of published_units is one version of a unit as published: it enters with
-- publication published_in and leaves with publication withdrawn_in, the first that no
-- longer holds it (NULL while the latest holds it). Publication n holds exactly the rows with
--     published_in <= n AND (withdrawn_in IS NULL OR withdrawn_in > n),
-- so publishing writes only the changed units, and reading any publication still gives its
-- units. A row changes once, when it is withdrawn (withdrawn_in NULL → a number); nothing
-- else about it ever changes and no row is deleted. publication_units, the copy each
-- publication used to be, stays as a view of every publication's units. A new public text
-- column (riskmap.PublicTextFields) is added to published_units and to the
-- column list of published_units_no_change. sql/gpkg/015 is the same
-- for the GeoPackage store.
CREATE TABLE published_units (
    unit_id      bigint NOT NULL,
    -- Publication numbers, without foreign keys: publications are never deleted and a
    -- publication writes its number here in its own transaction; a key checked row by row
    -- made withdrawing and adding 10,000 rows take twice as long.
    published_in bigint NOT NULL,
    withdrawn_in bigint,
    version      bigint NOT NULL,
    code         text NOT NULL,
    name         text NOT NULL,
    category     text NOT NULL,
    region_code  text NOT NULL,
    grade        text NOT NULL,
    risk_value   double precision NOT NULL,
    geom         geometry(Geometry, 4326) NOT NULL,
    public_label text NOT NULL DEFAULT '',
    PRIMARY KEY (unit_id, published_in),
    CHECK (withdrawn_in > published_in)
);

-- Each publication's rows, from the copies: a run of consecutive publications holding a
-- unit alike is one row (alike in every column: a condition could raise the approved grade
-- of a unit in place, keeping its version).
INSERT INTO published_units (unit_id, published_in, withdrawn_in, version, code, name, category, region_code, grade, risk_value, geom, public_label)
SELECT unit_id, first_in,
       CASE WHEN last_in = (SELECT max(number) FROM publications) THEN NULL ELSE last_in + 1 END,
       version, code, name, category, region_code, grade, risk_value, geom, public_label
FROM (
    SELECT r.*, min(publication) OVER run AS first_in, max(publication) OVER run AS last_in
    FROM (SELECT pu.*, publication - row_number() OVER (PARTITION BY unit_id, version, code, name, category, region_code,
              grade, risk_value, geom, public_label ORDER BY publication) AS run_id
          FROM publication_units pu) r
    WINDOW run AS (PARTITION BY unit_id, version, code, name, category, region_code, grade, risk_value, geom, public_label, run_id)
) runs
WHERE publication = first_in;

-- One row of a unit in the latest publication; the changes between two publications by
-- the numbers they entered and left with.
CREATE UNIQUE INDEX published_units_current ON published_units (unit_id) INCLUDE (version, grade) WHERE withdrawn_in IS NULL;
CREATE INDEX published_units_published_in ON published_units (published_in);
CREATE INDEX published_units_withdrawn_in ON published_units (withdrawn_in) WHERE withdrawn_in IS NOT NULL;
-- Publishing compares the approved versions and grades with the latest publication's (a
-- condition raises an approved grade in place, keeping the version): two index-only
-- scans merged in unit order (0.3 s for 1M units, against 0.6 s reading both tables).
CREATE INDEX approved_units_versions ON approved_units (unit_id) INCLUDE (version, grade);
-- Index-only scans read the heap for pages not marked all-visible: vacuum both tables
-- after every 1 % of them changes, not the default 20 %, so that a publication finds the
-- marks the one before left.
ALTER TABLE published_units SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_insert_scale_factor = 0.01,
    autovacuum_analyze_scale_factor = 0.02);
ALTER TABLE approved_units SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_insert_scale_factor = 0.01);

-- Only withdrawing a row, once, and nothing else. Triggers on the columns set, with the
-- test in WHEN, cost nothing per row withdrawn (a PL/pgSQL test of every row doubled the
-- time of withdrawing 10,000 rows). A public text column added later goes in the first list.
CREATE TRIGGER published_units_no_change BEFORE UPDATE OF unit_id, published_in, version, code, name, category,
    region_code, grade, risk_value, geom, public_label ON published_units
    FOR EACH ROW EXECUTE FUNCTION riskmap_reject_change('publications are immutable');
CREATE TRIGGER published_units_withdraw_once BEFORE UPDATE OF withdrawn_in ON published_units
    FOR EACH ROW WHEN (OLD.withdrawn_in IS NOT NULL OR NEW.withdrawn_in IS NULL)
    EXECUTE FUNCTION riskmap_reject_change('publications are immutable');
-- A row enters with the latest publication and leaves with it: an earlier publication
-- cannot gain or lose a unit. Checked once per statement over the rows it wrote.
CREATE FUNCTION riskmap_published_units_latest() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    latest bigint := (SELECT max(number) FROM publications);
BEGIN
    IF (TG_OP = 'INSERT' AND EXISTS (SELECT 1 FROM written WHERE published_in IS DISTINCT FROM latest OR withdrawn_in IS NOT NULL))
       OR (TG_OP = 'UPDATE' AND EXISTS (SELECT 1 FROM written WHERE withdrawn_in IS DISTINCT FROM latest)) THEN
        RAISE EXCEPTION 'publications are immutable' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER published_units_enter_latest AFTER INSERT ON published_units
    REFERENCING NEW TABLE AS written FOR EACH STATEMENT EXECUTE FUNCTION riskmap_published_units_latest();
CREATE TRIGGER published_units_leave_latest AFTER UPDATE ON published_units
    REFERENCING NEW TABLE AS written FOR EACH STATEMENT EXECUTE FUNCTION riskmap_published_units_latest();
CREATE TRIGGER published_units_no_delete BEFORE DELETE ON published_units
    FOR EACH ROW EXECUTE FUNCTION riskmap_reject_change('publications are immutable');
CREATE TRIGGER published_units_no_truncate BEFORE TRUNCATE ON published_units
    FOR EACH STATEMENT EXECUTE FUNCTION riskmap_reject_change('publications are immutable');

DROP TABLE publication_units;
CREATE VIEW publication_units AS
SELECT p.number AS publication, u.unit_id, u.version, u.code, u.name, u.category, u.region_code,
       u.grade, u.risk_value, u.geom, u.public_label
FROM publications p
JOIN published_units u ON u.published_in <= p.number AND (u.withdrawn_in IS NULL OR u.withdrawn_in > p.number);

-- The unit counts by counting region (a unit's grid, else its region code) and grade from
-- which the next publication's regional grades start, with the key of the regions they
-- were counted in; NULL for publications made before, whose successor counts afresh.
ALTER TABLE publications ADD COLUMN counts json;

ANALYZE published_units;
