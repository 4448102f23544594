-- Fleet-wide periodic maintenance (the reindexer): when each task last ran. Every worker runs the
-- service, but under an advisory lock and only when the last run is older than the interval, so
-- the fleet does the work once per interval, not once per worker.
CREATE TABLE maintenance_runs (
  task         text PRIMARY KEY,
  started_at   timestamptz NOT NULL,
  finished_at  timestamptz
);
