-- The report counts a site's events by time; the worker's D1 store has the same index
-- (edge/worker/migrations), so both stores plan the same queries. (`responses` keeps its one
-- (site, survey, received_ms) index: a second one cost 7-20 % of the ingest throughput, measured
-- with edge/server/bench.sh, for reports that are rare.)
CREATE INDEX IF NOT EXISTS events_by_time ON events(site, survey, received_ms);
