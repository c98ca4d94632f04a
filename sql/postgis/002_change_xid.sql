-- Replicas on one database follow each other's writes through LISTEN/NOTIFY. A replica that
-- lost its listening connection catches up from the rows changed since a mark, so every row
-- records the transaction that last wrote it.
--
-- A transaction id, not a sequence number: a sequence hands out numbers before commit, so a
-- write can commit after a later-numbered one and fall behind a mark already taken (a bulk
-- load holds its numbers for minutes). Every transaction a snapshot does not see has an id at
-- or above the snapshot's xmin, so "change_xid >= the xmin of a snapshot taken before the
-- last catch-up" misses nothing. xid8 carries the epoch and never wraps around.
--
-- Rows written before this migration keep NULL: they committed before any mark can be taken.
-- Adding the column without a default, then setting one, avoids rewriting the table.
ALTER TABLE risk_units ADD COLUMN change_xid xid8;
-- A default costs COPY next to nothing; a row trigger on insert would cost it about 4%.
ALTER TABLE risk_units ALTER COLUMN change_xid SET DEFAULT pg_current_xact_id();

-- Updates go through a trigger so that writes from outside riskmap (QGIS, psql) are caught
-- up too; they are single rows, where a trigger costs nothing noticeable.
CREATE FUNCTION risk_units_change_xid() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.change_xid := pg_current_xact_id();
    RETURN NEW;
END
$$;
CREATE TRIGGER risk_units_change_xid BEFORE UPDATE ON risk_units
    FOR EACH ROW EXECUTE FUNCTION risk_units_change_xid();

CREATE INDEX risk_units_change_xid ON risk_units (change_xid);
