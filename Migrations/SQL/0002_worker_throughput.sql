-- Per-worker throughput for `trolley top` and `trolley workers`: which worker ended each job, and
-- how many attempts each worker ended per minute, kept up by the acknowledgement itself.

-- The worker whose fenced report ended the job's latest attempt (succeeded, retrying, dead or
-- cancelled); NULL until one did. The rescuer and operators leave it as it was. Nullable with no
-- default, so adding it rewrites nothing in a deployed table.
ALTER TABLE jobs ADD COLUMN finished_by bigint;

-- Attempts each worker ended, per minute: one upsert per acknowledgement statement (not per job),
-- on a row only that worker writes, so reading jobs per minute never scans jobs. No foreign key:
-- the acknowledgement must not pay a per-row check, and retention deletes rows of workers it
-- deletes and rows older than an hour.
CREATE TABLE worker_minutes (
  worker_id  bigint NOT NULL,
  minute     timestamptz NOT NULL,
  finished   bigint NOT NULL,
  PRIMARY KEY (worker_id, minute)
);
