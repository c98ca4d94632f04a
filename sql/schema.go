// Package schema embeds the numbered SQL migrations of each store. Migrations are applied
// in file-name order, each in its own transaction, and recorded in schema_migrations.
package schema

import "embed"

// PostGIS holds the PostGIS migrations, postgis/NNN_name.sql.
//
//go:embed postgis/*.sql
var PostGIS embed.FS

// GeoPackage holds the GeoPackage (SQLite) migrations, gpkg/NNN_name.sql.
//
//go:embed gpkg/*.sql
var GeoPackage embed.FS
