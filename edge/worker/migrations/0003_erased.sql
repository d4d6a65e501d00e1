-- Answers erased at a person's request (DELETE /v1/sites/{site}/people/{key}): a delivery of one
-- that was already in the Queue is dropped at its next attempt. Kept as long as the site keeps
-- answers (retention), like the rest.
CREATE TABLE IF NOT EXISTS erased (
  site TEXT NOT NULL, id TEXT NOT NULL, erased_ms INTEGER NOT NULL,
  PRIMARY KEY (site, id)
) WITHOUT ROWID;
