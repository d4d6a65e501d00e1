-- A helpdesk ticket that follows a case (linked with PATCH …/cases/{id}), so that the helpdesk's
-- "ticket solved" event can name the case by its ticket. Only linked cases have an index entry.
ALTER TABLE cases ADD COLUMN external_ref TEXT;
CREATE INDEX IF NOT EXISTS cases_by_external_ref ON cases(site, external_ref)
  WHERE external_ref IS NOT NULL;
