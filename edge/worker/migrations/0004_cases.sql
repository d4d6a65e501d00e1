-- Cases: one per answer that opened one (its response id), the team's follow-up of an unhappy
-- customer, and their notes. The native store has the same tables (edge/server/migrations),
-- so the cases API is the same SQL on both.
CREATE TABLE IF NOT EXISTS cases (
  site TEXT NOT NULL, id TEXT NOT NULL, rev INTEGER NOT NULL, survey TEXT NOT NULL,
  respondent TEXT NOT NULL, user_id TEXT, account TEXT, order_id TEXT, email TEXT,
  score INTEGER NOT NULL, first_score INTEGER NOT NULL, comment TEXT, contact_ok INTEGER,
  status TEXT NOT NULL, owner TEXT, opened_ms INTEGER NOT NULL, due_ms INTEGER NOT NULL,
  first_touch_ms INTEGER, resolved_ms INTEGER, resurvey_ms INTEGER, resurvey_score INTEGER,
  updated_ms INTEGER NOT NULL,
  PRIMARY KEY (site, id)
);
-- The one index: who has a case still open (eligibility). Lists filter a site's cases by scanning
-- them; every index here costs each detractor's answer a random B-tree page (measured with
-- edge/server/bench.sh DETRACTORS=1).
CREATE INDEX IF NOT EXISTS cases_open_by_user ON cases(site, user_id)
  WHERE user_id IS NOT NULL AND status IN ('open', 'in_progress', 'reopened');
CREATE TABLE IF NOT EXISTS case_notes (
  site TEXT NOT NULL, case_id TEXT NOT NULL, seq INTEGER NOT NULL, at_ms INTEGER NOT NULL,
  author TEXT NOT NULL, text TEXT NOT NULL,
  PRIMARY KEY (site, case_id, seq)
) WITHOUT ROWID;
