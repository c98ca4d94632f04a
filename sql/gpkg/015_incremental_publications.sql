-- Issue 18: a publication stores what changed since the one before, not a copy of the
-- register; the same as sql/postgis/016_incremental_publications.sql, which explains it.
-- Publication n holds the rows of published_units with
--     published_in <= n AND (withdrawn_in IS NULL OR withdrawn_in > n).
-- A new public text column is added to published_units and to the columns of
-- published_units_no_update.
CREATE TABLE published_units (
    unit_id      INTEGER NOT NULL,
    -- Publication numbers, without foreign keys: publications are never deleted and a
    -- publication writes its number here in its own transaction; a key checked row by row
    -- made withdrawing and adding 10,000 rows take twice as long.
    published_in INTEGER NOT NULL,
    withdrawn_in INTEGER,
    version      INTEGER NOT NULL,
    code         TEXT NOT NULL,
    name         TEXT NOT NULL,
    category     TEXT NOT NULL,
    region_code  TEXT NOT NULL,
    grade        TEXT NOT NULL,
    risk_value   DOUBLE NOT NULL,
    geom         GEOMETRY NOT NULL,
    public_label TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (unit_id, published_in),
    CHECK (withdrawn_in > published_in)
);

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

CREATE UNIQUE INDEX published_units_current ON published_units (unit_id) WHERE withdrawn_in IS NULL;
CREATE INDEX published_units_published_in ON published_units (published_in);
CREATE INDEX published_units_withdrawn_in ON published_units (withdrawn_in) WHERE withdrawn_in IS NOT NULL;

CREATE TRIGGER published_units_no_update BEFORE UPDATE OF unit_id, published_in, version, code, name, category,
    region_code, grade, risk_value, geom, public_label ON published_units
BEGIN
    SELECT RAISE(ABORT, 'publications are immutable');
END;
-- A row enters with the latest publication and leaves with it, once: an earlier
-- publication cannot gain or lose a unit.
CREATE TRIGGER published_units_withdraw_once BEFORE UPDATE OF withdrawn_in ON published_units
WHEN OLD.withdrawn_in IS NOT NULL OR NEW.withdrawn_in IS NOT (SELECT max(number) FROM publications)
BEGIN
    SELECT RAISE(ABORT, 'publications are immutable');
END;
CREATE TRIGGER published_units_enter_latest BEFORE INSERT ON published_units
WHEN NEW.published_in IS NOT (SELECT max(number) FROM publications) OR NEW.withdrawn_in IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'publications are immutable');
END;
CREATE TRIGGER published_units_no_delete BEFORE DELETE ON published_units
BEGIN
    SELECT RAISE(ABORT, 'publications are immutable');
END;

DROP TABLE publication_units;
CREATE VIEW publication_units AS
SELECT p.number AS publication, u.unit_id, u.version, u.code, u.name, u.category, u.region_code,
       u.grade, u.risk_value, u.geom, u.public_label
FROM publications p
JOIN published_units u ON u.published_in <= p.number AND (u.withdrawn_in IS NULL OR u.withdrawn_in > p.number);

ALTER TABLE publications ADD COLUMN counts TEXT;
