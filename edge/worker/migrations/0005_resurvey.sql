-- Re-survey after a resolved case: the answer that re-surveys the customer (its response id), so
-- that its later revs (a comment, a changed score) update the case's after-score.
ALTER TABLE cases ADD COLUMN resurvey_id TEXT;
-- When the chat heard that the case is overdue (once per case). The sweep that looks for overdue
-- cases scans a site's cases: an index here would cost every detractor's answer an entry.
ALTER TABLE cases ADD COLUMN overdue_alerted_ms INTEGER;
-- Resolved cases still waiting for their re-survey (eligibility, and the answer that comes).
CREATE INDEX IF NOT EXISTS cases_resurvey_due ON cases(site, user_id)
  WHERE user_id IS NOT NULL AND status = 'resolved' AND resurvey_id IS NULL;
-- The case a re-survey answer follows up (its later revs).
CREATE INDEX IF NOT EXISTS cases_by_resurvey ON cases(site, resurvey_id) WHERE resurvey_id IS NOT NULL;
