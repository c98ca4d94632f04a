-- Issue 17: device tokens. A token of scope 'readings' (设备令牌) writes the readings of the
-- monitoring points its user may edit (POST /api/v1/readings, SensorThings Observations)
-- and can do nothing else. sql/gpkg/013_device_tokens.sql is the same for the GeoPackage
-- store.
ALTER TABLE api_tokens DROP CONSTRAINT api_tokens_scope_check;
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_scope_check CHECK (scope IN ('', 'metrics', 'readings'));
