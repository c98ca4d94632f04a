-- Issue 12: public_label (公开名称), the name of a unit on the public map. Optional and
-- reviewed with the unit; '' is not filled in. The approved register and the publications
-- keep it with the unit (riskmap.PublicTextFields). sql/postgis/007_public_label.sql is
-- the same for PostGIS.
ALTER TABLE risk_units ADD COLUMN public_label TEXT NOT NULL DEFAULT '';
ALTER TABLE approved_units ADD COLUMN public_label TEXT NOT NULL DEFAULT '';
ALTER TABLE publication_units ADD COLUMN public_label TEXT NOT NULL DEFAULT '';
