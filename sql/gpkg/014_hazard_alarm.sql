-- A hidden danger made from a monitoring alarm (POST /api/v1/alarms/{id}/hazard) names the
-- alarm; an alarm becomes at most one hidden danger, whatever its description says.
ALTER TABLE hazards ADD COLUMN alarm_id INTEGER NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX hazards_alarm_id ON hazards (alarm_id) WHERE alarm_id <> 0;
