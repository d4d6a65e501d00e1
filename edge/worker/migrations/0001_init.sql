-- D1 schema of the NPS worker (apply: wrangler d1 migrations apply nps --remote).
-- Same columns as the native server's SQLite store, so reports work on both.

-- Every accepted response; a higher rev of a known id replaces it (upsert by id).
CREATE TABLE IF NOT EXISTS responses (
  id TEXT PRIMARY KEY,
  rev INTEGER NOT NULL,
  site TEXT NOT NULL,
  survey TEXT NOT NULL,
  score INTEGER NOT NULL CHECK (score BETWEEN 0 AND 10),
  segment TEXT NOT NULL CHECK (segment IN ('detractor', 'passive', 'promoter')),
  comment TEXT,
  locale TEXT,
  visitor TEXT NOT NULL,
  page TEXT,
  contact_ok INTEGER,
  review_clicked INTEGER,
  user_id TEXT,
  user_account TEXT,
  user_order TEXT,
  user_email TEXT,
  properties TEXT,
  sent_at TEXT,
  received_at TEXT NOT NULL,
  updated_at TEXT
);
CREATE INDEX IF NOT EXISTS responses_site_survey_received ON responses (site, survey, received_at);

-- shown / dismissed events, once per id.
CREATE TABLE IF NOT EXISTS events (
  id TEXT PRIMARY KEY,
  site TEXT NOT NULL,
  survey TEXT NOT NULL,
  visitor TEXT NOT NULL,
  type TEXT NOT NULL CHECK (type IN ('shown', 'dismissed')),
  user_id TEXT,
  received_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_site_survey_received ON events (site, survey, received_at);

-- Webhook deliveries that exhausted their retries (or got 410 Gone): nothing is dropped silently.
CREATE TABLE IF NOT EXISTS dead_letters (
  webhook_id TEXT PRIMARY KEY,
  sink TEXT NOT NULL,
  payload TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  reason TEXT NOT NULL,
  failed_at TEXT NOT NULL
);
