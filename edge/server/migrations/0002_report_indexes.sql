-- The report reads a whole site's answers and events by time; the worker's D1 store has the
-- same two indexes (edge/worker/migrations), so both stores plan the same queries.
CREATE INDEX IF NOT EXISTS responses_by_site_time ON responses(site, received_ms);
CREATE INDEX IF NOT EXISTS events_by_time ON events(site, survey, received_ms);
