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
-- A bulk load logs no ids: it writes the id 0, which stands for "everything changed" (the
-- next publication compares the whole register), and sets riskmap.bulk_load for its own
-- transaction, which the triggers read. So the log stays as small as the hand-made changes
-- since the last publication. (Hand-made changes are logged even while a 0 waits: a writer
-- that saw a 0 committed before a publication took it, and committed after that
-- publication's snapshot, would otherwise be lost — the review found that.)
CREATE TABLE approved_changes (unit_id bigint NOT NULL);
ALTER TABLE approved_changes SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 10000);

ALTER TABLE publications ADD COLUMN changes_logged boolean NOT NULL DEFAULT false;

-- One statement-level trigger per event (a trigger with transition tables takes one): the
-- rows a statement wrote are logged in one INSERT … SELECT.
CREATE FUNCTION riskmap_log_approved_new() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('riskmap.bulk_load', true) IS DISTINCT FROM 'on' THEN
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
    IF current_setting('riskmap.bulk_load', true) = 'on' THEN
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
