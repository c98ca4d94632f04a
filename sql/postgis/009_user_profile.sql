-- Issue 13: who a user is, beyond its login: display_name (姓名), organisation (单位) and
-- phone. Optional; '' is not filled in. The application names a person "姓名（单位）"
-- wherever it shows one. sql/gpkg/008_user_profile.sql is the same for the GeoPackage store.
ALTER TABLE users ADD COLUMN display_name text NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN organisation text NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN phone text NOT NULL DEFAULT '';
