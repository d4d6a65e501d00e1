-- The response store of both runtimes, column for column (edge/server/migrations): answers and
-- events are keyed by (site, id) — the first release keyed them by id alone, so the same id
-- posted to another site overwrote the first site's row —, times are ms since the epoch, and
-- each answer keeps its wire JSON (`body`), which the report reads.
CREATE TABLE responses_v2 (
  site TEXT NOT NULL, id TEXT NOT NULL, rev INTEGER NOT NULL, survey TEXT NOT NULL,
  score INTEGER NOT NULL, segment TEXT NOT NULL, respondent TEXT NOT NULL, visitor TEXT NOT NULL,
  user_id TEXT, account TEXT, comment TEXT, locale TEXT, page TEXT, contact_ok INTEGER,
  review_clicked INTEGER, body TEXT NOT NULL, received_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL,
  PRIMARY KEY (site, id)
);
-- The wire JSON is rebuilt from the old columns; json_patch drops the members that are null.
INSERT INTO responses_v2 (site, id, rev, survey, score, segment, respondent, visitor, user_id,
  account, comment, locale, page, contact_ok, review_clicked, body, received_ms, updated_ms)
SELECT site, id, rev, survey, score, segment, coalesce(user_id, visitor), visitor, user_id,
  user_account, comment, locale, page, contact_ok, review_clicked,
  json_patch('{}', json_object(
    'id', id, 'rev', rev, 'site', site, 'survey', survey, 'score', score,
    'comment', comment, 'locale', locale, 'visitor', visitor, 'page', page,
    'contact_ok', CASE WHEN contact_ok IS NULL THEN NULL ELSE json(CASE WHEN contact_ok THEN 'true' ELSE 'false' END) END,
    'review_clicked', CASE WHEN review_clicked IS NULL THEN NULL ELSE json(CASE WHEN review_clicked THEN 'true' ELSE 'false' END) END,
    'user', CASE WHEN coalesce(user_id, user_account, user_order, user_email) IS NULL THEN NULL
                 ELSE json_object('id', user_id, 'account', user_account, 'order', user_order, 'email', user_email) END,
    'properties', CASE WHEN properties IS NULL THEN NULL ELSE json(properties) END,
    'sent_at', sent_at)),
  CAST(round((julianday(received_at) - 2440587.5) * 86400000) AS INTEGER),
  CAST(round((julianday(coalesce(updated_at, received_at)) - 2440587.5) * 86400000) AS INTEGER)
FROM responses;
DROP TABLE responses;
ALTER TABLE responses_v2 RENAME TO responses;
CREATE INDEX responses_by_time ON responses(site, survey, received_ms);

CREATE TABLE events_v2 (
  site TEXT NOT NULL, id TEXT NOT NULL, survey TEXT NOT NULL, visitor TEXT NOT NULL,
  type TEXT NOT NULL, user_id TEXT, received_ms INTEGER NOT NULL,
  PRIMARY KEY (site, id)
) WITHOUT ROWID;
INSERT INTO events_v2 (site, id, survey, visitor, type, user_id, received_ms)
SELECT site, id, survey, visitor, type, user_id,
  CAST(round((julianday(received_at) - 2440587.5) * 86400000) AS INTEGER)
FROM events;
DROP TABLE events;
ALTER TABLE events_v2 RENAME TO events;
CREATE INDEX events_by_time ON events(site, survey, received_ms);
