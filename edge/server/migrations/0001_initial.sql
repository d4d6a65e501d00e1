-- The store as the first release created it (every statement is idempotent, so a database
-- written by that release, which has no user_version, passes through unchanged).
-- `responses` is a rowid table on purpose: its rows are wide (comment, page, body), and random
-- UUID keys in a WITHOUT ROWID table move whole rows around on every page split.
CREATE TABLE IF NOT EXISTS responses (
  site TEXT NOT NULL, id TEXT NOT NULL, rev INTEGER NOT NULL, survey TEXT NOT NULL,
  score INTEGER NOT NULL, segment TEXT NOT NULL, respondent TEXT NOT NULL, visitor TEXT NOT NULL,
  user_id TEXT, account TEXT, comment TEXT, locale TEXT, page TEXT, contact_ok INTEGER,
  review_clicked INTEGER, body TEXT NOT NULL, received_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL,
  PRIMARY KEY (site, id)
);
CREATE INDEX IF NOT EXISTS responses_by_time ON responses(site, survey, received_ms);
CREATE TABLE IF NOT EXISTS respondents (
  site TEXT NOT NULL, survey TEXT NOT NULL, respondent TEXT NOT NULL,
  response_id TEXT NOT NULL, at_ms INTEGER NOT NULL,
  PRIMARY KEY (site, survey, respondent)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
  site TEXT NOT NULL, id TEXT NOT NULL, survey TEXT NOT NULL, visitor TEXT NOT NULL,
  type TEXT NOT NULL, user_id TEXT, received_ms INTEGER NOT NULL,
  PRIMARY KEY (site, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, sink TEXT NOT NULL, msg_id TEXT NOT NULL,
  payload TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_ms INTEGER NOT NULL,
  state INTEGER NOT NULL DEFAULT 0, last_error TEXT, created_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox(sink, state, next_ms);
CREATE TABLE IF NOT EXISTS sink_state (
  sink TEXT PRIMARY KEY, disabled_ms INTEGER NOT NULL, reason TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS suppressions (
  site TEXT NOT NULL, subject TEXT NOT NULL, expires_ms INTEGER, reason TEXT,
  created_ms INTEGER NOT NULL,
  PRIMARY KEY (site, subject)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS alerts (
  sink TEXT NOT NULL, site TEXT NOT NULL, response_id TEXT NOT NULL,
  state INTEGER NOT NULL DEFAULT 0, due_ms INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
  sent_ms INTEGER, sent_rev INTEGER, last_error TEXT, created_ms INTEGER NOT NULL,
  PRIMARY KEY (sink, site, response_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS alerts_due ON alerts(sink, state, due_ms);
