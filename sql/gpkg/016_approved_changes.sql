-- Issue 18: publishing compares only what changed, as sql/postgis/017 does for PostgreSQL.
-- Every write of approved_units that changes what a publication compares (a unit approved,
-- a new approved version, an approved grade raised in place, a unit retired) leaves the
-- unit's id in approved_changes. A publication (the one writer, under the store's write
-- lock) compares only those units with the latest publication's and empties the table; it
-- does so only when the latest publication did the same before it (changes_logged): the
-- first publication after this migration, and one after a change of more than a twentieth
-- of the register (a bulk load), compare the whole register as before. INSERT OR REPLACE
-- fires the insert trigger (its implicit delete fires none without recursive triggers),
-- which logs the same id.
-- A bulk load logs no ids: it empties the table and writes the id 0, which stands for
-- "everything changed" (the next publication compares the whole register), and while a 0
-- is there the triggers log nothing more.
CREATE TABLE approved_changes (unit_id INTEGER NOT NULL);
CREATE INDEX approved_changes_everything ON approved_changes (unit_id) WHERE unit_id = 0;

ALTER TABLE publications ADD COLUMN changes_logged INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER approved_units_log_insert AFTER INSERT ON approved_units
    WHEN NOT EXISTS (SELECT 1 FROM approved_changes WHERE unit_id = 0)
BEGIN
    INSERT INTO approved_changes (unit_id) VALUES (NEW.unit_id);
END;
CREATE TRIGGER approved_units_log_update AFTER UPDATE ON approved_units
    WHEN (OLD.version IS NOT NEW.version OR OLD.grade IS NOT NEW.grade OR OLD.unit_id IS NOT NEW.unit_id)
        AND NOT EXISTS (SELECT 1 FROM approved_changes WHERE unit_id = 0)
BEGIN
    INSERT INTO approved_changes (unit_id) VALUES (NEW.unit_id);
    INSERT INTO approved_changes (unit_id) SELECT OLD.unit_id WHERE OLD.unit_id IS NOT NEW.unit_id;
END;
CREATE TRIGGER approved_units_log_delete AFTER DELETE ON approved_units
    WHEN NOT EXISTS (SELECT 1 FROM approved_changes WHERE unit_id = 0)
BEGIN
    INSERT INTO approved_changes (unit_id) VALUES (OLD.unit_id);
END;
