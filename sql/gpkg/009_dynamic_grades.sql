-- Issue 14: dynamic grades (分级分类动态监管) and review dates that follow them.
-- grade is the current grade: the inherent grade (inherent_grade, from the assessment)
-- raised by the unit's open conditions (open hidden dangers; monitoring alarms later), which
-- are kept here (JSON text) as written by the last write of a hidden danger.
-- A row from before this migration has NULL inherent_grade: its grade is its inherent grade.
-- identified_at is the date of the last full identification (全面辨识, every 5 years).
-- sql/postgis/010_dynamic_grades.sql is the same for PostGIS.
ALTER TABLE risk_units ADD COLUMN inherent_grade TEXT NULL
    CHECK (inherent_grade IN ('red', 'orange', 'yellow', 'blue'));
ALTER TABLE risk_units ADD COLUMN conditions TEXT NULL;
ALTER TABLE risk_units ADD COLUMN open_hazards INTEGER NOT NULL DEFAULT 0 CHECK (open_hazards >= 0);
ALTER TABLE risk_units ADD COLUMN identified_at DATE NULL;
CREATE INDEX risk_units_open_hazards ON risk_units (id) WHERE open_hazards > 0;

ALTER TABLE approved_units ADD COLUMN inherent_grade TEXT NULL
    CHECK (inherent_grade IN ('red', 'orange', 'yellow', 'blue'));
