-- The helpdesk events applied, by their Standard Webhooks `webhook-id`: a helpdesk retries an
-- event it could not see answered (same id, signed again), and that retry must change nothing —
-- no second note, no reopening after a later "solved". Kept a week (the periodic sweep).
CREATE TABLE IF NOT EXISTS helpdesk_events (
  site        TEXT    NOT NULL,
  id          TEXT    NOT NULL,
  received_ms INTEGER NOT NULL,
  PRIMARY KEY (site, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS helpdesk_events_by_time ON helpdesk_events(received_ms);
