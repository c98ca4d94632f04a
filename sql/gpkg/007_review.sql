-- Issue 13: the review desk (审核). The author record keeps the reviewer's comment (审核意见),
-- the reason for a lowered grade (降级理由), the approved revision a new one departs from
-- (its grade and the whole revision as a GeoJSON Feature, for the reviewer's comparison)
-- and a retirement request waiting for review (注销理由, who asked and when; see
-- riskmap.ReviewNotes). sql/postgis/008_review.sql is the same for PostGIS.
ALTER TABLE unit_authors ADD COLUMN review_comment TEXT NOT NULL DEFAULT '';
ALTER TABLE unit_authors ADD COLUMN downgrade_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE unit_authors ADD COLUMN approved_grade TEXT NOT NULL DEFAULT '';
ALTER TABLE unit_authors ADD COLUMN approved_feature TEXT NOT NULL DEFAULT '';
ALTER TABLE unit_authors ADD COLUMN retire_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE unit_authors ADD COLUMN retire_requested_by TEXT NOT NULL DEFAULT '';
ALTER TABLE unit_authors ADD COLUMN retire_requested_at DATETIME;
