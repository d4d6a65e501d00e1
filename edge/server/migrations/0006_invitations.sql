-- E-mail invitations: one row per link made (site, response id of the link's answer), for the
-- funnel (sent, delivered, opened; answered is the answer itself) and the one reminder. The link
-- can be signed again from these columns (the nonce), so no token is stored.
CREATE TABLE IF NOT EXISTS invitations (
  site         TEXT    NOT NULL,
  response_id  TEXT    NOT NULL,
  survey       TEXT    NOT NULL,
  batch        TEXT    NOT NULL,
  email        TEXT    NOT NULL,
  user_id      TEXT,
  account      TEXT,
  order_id     TEXT,
  locale       TEXT,
  nonce        TEXT    NOT NULL,
  expires_ms   INTEGER NOT NULL,
  created_ms   INTEGER NOT NULL,
  sent_ms      INTEGER,
  delivered_ms INTEGER,
  opened_ms    INTEGER,
  reminded_ms  INTEGER,
  PRIMARY KEY (site, response_id)
);
CREATE INDEX IF NOT EXISTS invitations_by_batch ON invitations(site, survey, batch);
-- The reminder sweep: sent, not yet reminded.
CREATE INDEX IF NOT EXISTS invitations_to_remind ON invitations(site, sent_ms)
  WHERE reminded_ms IS NULL AND sent_ms IS NOT NULL;
