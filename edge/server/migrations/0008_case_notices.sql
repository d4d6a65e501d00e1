-- The `nps.case.*` message of a team's change to a case (PATCH, a helpdesk event) is owed from the
-- moment the change is made: the change's own statement sets `notice` (the message's type) and
-- `notice_ms` (the change's time), and they are cleared once the message is in the sinks' hands.
-- A change whose message was never handed on (a crash or an outage in between) is found by the
-- periodic sweep and announced then.
ALTER TABLE cases ADD COLUMN notice TEXT;
ALTER TABLE cases ADD COLUMN notice_ms INTEGER;
CREATE INDEX IF NOT EXISTS cases_notice_owed ON cases(notice_ms) WHERE notice IS NOT NULL;
