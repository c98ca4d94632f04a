-- The three JSON documents of a unit are stored as json, not jsonb. Every read of the register
-- returns all three, and jsonb prints a document back by walking its binary form and writing
-- new text: with a million units that was most of the server's share of reading them all
-- (about 6 µs a row). json keeps the text as written, so reading it back is a copy. Nothing
-- queries inside these documents, which is what jsonb is for; riskmap writes them without
-- white space or HTML escapes, in the form its readers expect.
--
-- Existing rows keep jsonb's printed form (keys reordered, ", " and ": "), which the readers
-- take as well. One ALTER TABLE rewrites the table once for all three columns.
ALTER TABLE risk_units
    ALTER COLUMN assessment TYPE json USING assessment::json,
    ALTER COLUMN grade_explanation TYPE json USING grade_explanation::json,
    ALTER COLUMN controls TYPE json USING controls::json;
