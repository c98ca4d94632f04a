-- Issue 18: publishing compares only what changed. Every write of approved_units that
-- changes what a publication compares (a unit approved, a new approved version, an approved
-- grade raised in place, a unit retired; not its approver recorded) leaves the unit's id in approved_changes, in the writing transaction.
-- A publication takes (deletes) the ids it sees, in its repeatable-read snapshot, and
-- compares only those units' approved versions and grades with the latest publication's;
-- ids written by transactions it does not see stay for the next one. It does so only when
-- the latest publication took the ids before it (changes_logged): the first publication
-- after this migration, and one after a change of more than a twentieth of the register
-- (a bulk load), compares the whole register as before, then takes the ids too.
--
-- A bulk load logs no ids: it writes the id 0 first, which stands for "everything
-- changed" (the next publication compares the whole register), and while a 0 is visible
-- the triggers log nothing more. So the log stays as small as the hand-made changes
-- since the last publication.
CREATE TABLE approved_changes (unit_id bigint NOT NULL);
CREATE INDEX approved_changes_everything ON approved_changes (unit_id) WHERE unit_id = 0;
ALTER TABLE approved_changes SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 10000);

ALTER TABLE publications ADD COLUMN changes_logged boolean NOT NULL DEFAULT false;

-- One statement-level trigger per event (a trigger with transition tables takes one): a
-- bulk load of a million approved units logs them in one INSERT … SELECT.
CREATE FUNCTION riskmap_log_approved_new() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM approved_changes WHERE unit_id = 0) THEN
        INSERT INTO approved_changes (unit_id) SELECT unit_id FROM written;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER approved_units_log_insert AFTER INSERT ON approved_units
    REFERENCING NEW TABLE AS written FOR EACH STATEMENT EXECUTE FUNCTION riskmap_log_approved_new();
CREATE TRIGGER approved_units_log_delete AFTER DELETE ON approved_units
    REFERENCING OLD TABLE AS written FOR EACH STATEMENT EXECUTE FUNCTION riskmap_log_approved_new();

CREATE FUNCTION riskmap_log_approved_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM approved_changes WHERE unit_id = 0) THEN
        RETURN NULL;
    END IF;
    INSERT INTO approved_changes (unit_id)
        SELECT n.unit_id FROM written n LEFT JOIN before o ON o.unit_id = n.unit_id
        WHERE o.unit_id IS NULL OR n.version IS DISTINCT FROM o.version OR n.grade IS DISTINCT FROM o.grade
        UNION ALL
        SELECT o.unit_id FROM before o WHERE NOT EXISTS (SELECT 1 FROM written n WHERE n.unit_id = o.unit_id);
    RETURN NULL;
END $$;
CREATE TRIGGER approved_units_log_update AFTER UPDATE ON approved_units
    REFERENCING OLD TABLE AS before NEW TABLE AS written FOR EACH STATEMENT EXECUTE FUNCTION riskmap_log_approved_update();
