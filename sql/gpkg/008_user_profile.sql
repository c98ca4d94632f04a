-- Issue 13: who a user is, beyond its login: display_name (姓名), organisation (单位) and
-- phone. Optional; '' is not filled in. The application names a person "姓名（单位）"
-- wherever it shows one. sql/postgis/009_user_profile.sql is the same for PostGIS.
ALTER TABLE users ADD COLUMN display_name TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN organisation TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN phone TEXT NOT NULL DEFAULT '';
