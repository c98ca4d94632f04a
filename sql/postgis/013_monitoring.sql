-- Issue 17: monitoring and early warning (监测预警). Monitoring points, their readings (a
-- table partitioned by month), the minute and hour rollups of the readings, and alarms.
-- sql/gpkg/012_monitoring.sql is the same for the GeoPackage store.

CREATE TABLE monitoring_points (
    id              bigserial PRIMARY KEY,
    code            text NOT NULL UNIQUE,
    unit_id         bigint NOT NULL REFERENCES risk_units (id),
    kind            text NOT NULL,
    unit_of_measure text NOT NULL,
    geom            geometry(Point, 4326) NOT NULL,
    interval_s      integer NOT NULL CHECK (interval_s > 0),
    thresholds      jsonb NOT NULL,
    version         bigint NOT NULL CHECK (version > 0),
    updated_at      timestamptz NOT NULL
);
CREATE INDEX monitoring_points_unit ON monitoring_points (unit_id, id);
CREATE INDEX monitoring_points_geom ON monitoring_points USING gist (geom);

-- Readings, partitioned by month (monitoring_ensure_partitions creates them, the store drops
-- old ones), with a BRIN index on the time. No foreign key, for the speed of the insert:
-- the store checks the points of a batch, and deletes a point's readings with it. A (point, time) is stored once: a repeated one is ignored.
CREATE TABLE readings (
    point_id bigint NOT NULL,
    at       timestamptz NOT NULL,
    value    double precision NOT NULL,
    PRIMARY KEY (point_id, at)
) PARTITION BY RANGE (at);
CREATE INDEX readings_at ON readings USING brin (at);

-- The rollups of the minutes and hours: kept by the store's insert of readings, in the same
-- statement (only readings that were new count). avg = total / n.
CREATE TABLE readings_1m (
    point_id bigint NOT NULL,
    bucket   timestamptz NOT NULL,
    min      double precision NOT NULL,
    max      double precision NOT NULL,
    total    double precision NOT NULL,
    n        bigint NOT NULL CHECK (n > 0),
    PRIMARY KEY (point_id, bucket)
);
CREATE TABLE readings_1h (LIKE readings_1m INCLUDING ALL);

-- monitoring_ensure_partitions creates the monthly partitions readings_YYYYMM of every month
-- from the month of from_t to that of to_t, those that do not exist yet.
CREATE FUNCTION monitoring_ensure_partitions(from_t timestamptz, to_t timestamptz) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    m timestamptz := date_trunc('month', from_t AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
    last timestamptz := date_trunc('month', to_t AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
    name text;
    made integer := 0;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('riskmap readings partitions'));
    WHILE m <= last LOOP
        name := 'readings_' || to_char(m AT TIME ZONE 'UTC', 'YYYYMM');
        IF to_regclass(name) IS NULL THEN
            EXECUTE format('CREATE TABLE %I PARTITION OF readings FOR VALUES FROM (%L) TO (%L)',
                name, m, (m AT TIME ZONE 'UTC' + interval '1 month') AT TIME ZONE 'UTC');
            made := made + 1;
        END IF;
        m := (m AT TIME ZONE 'UTC' + interval '1 month') AT TIME ZONE 'UTC';
    END LOOP;
    RETURN made;
END $$;

-- monitoring_drop_partitions drops the monthly partitions that end at or before t and
-- returns how many rows they held.
CREATE FUNCTION monitoring_drop_partitions(t timestamptz) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    part record;
    n bigint;
    gone bigint := 0;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('riskmap readings partitions'));
    FOR part IN
        SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'readings'::regclass AND c.relname ~ '^readings_[0-9]{6}$'
    LOOP
        IF to_date(substr(part.relname, 10), 'YYYYMM')::timestamp + interval '1 month' <= t AT TIME ZONE 'UTC' THEN
            EXECUTE format('SELECT count(*) FROM %I', part.relname) INTO n;
            EXECUTE format('DROP TABLE %I', part.relname);
            gone := gone + n;
        END IF;
    END LOOP;
    RETURN gone;
END $$;

CREATE TABLE alarms (
    id              bigserial PRIMARY KEY,
    code            text NOT NULL UNIQUE,
    point_id        bigint NOT NULL REFERENCES monitoring_points (id),
    unit_id         bigint NOT NULL,
    rule            text NOT NULL CHECK (rule IN ('threshold', 'offline')),
    level           text NOT NULL CHECK (level IN ('blue', 'yellow', 'orange', 'red')),
    status          text NOT NULL CHECK (status IN ('active', 'acknowledged', 'disposed', 'closed')),
    side            text NOT NULL DEFAULT '',
    normal          boolean NOT NULL DEFAULT false,
    opened_at       timestamptz NOT NULL,
    escalated_at    timestamptz,
    acknowledged_at timestamptz,
    acknowledged_by text NOT NULL DEFAULT '',
    disposed_at     timestamptz,
    disposed_by     text NOT NULL DEFAULT '',
    action          text NOT NULL DEFAULT '',
    normal_at       timestamptz,
    closed_at       timestamptz,
    peak            double precision NOT NULL,
    peak_at         timestamptz NOT NULL,
    last_value      double precision NOT NULL,
    version         bigint NOT NULL CHECK (version > 0)
);
-- One open alarm per (point, rule), whoever writes.
CREATE UNIQUE INDEX alarms_one_open ON alarms (point_id, rule) WHERE status <> 'closed';
CREATE INDEX alarms_unit ON alarms (unit_id, id);
CREATE INDEX alarms_point ON alarms (point_id, id);
CREATE INDEX alarms_status ON alarms (status, id);
