-- Reliability (issue 13): dependents that can be revived, waiting jobs that can be reconciled,
-- and stale-worker detection from each worker's own lease.

-- The dependency whose end (dead or cancelled) cancelled this job, so that retrying that
-- dependency revives it. NULL for every other job.
ALTER TABLE jobs ADD COLUMN cancelled_by bigint;
CREATE INDEX jobs_cancelled_by_idx ON jobs (cancelled_by) WHERE cancelled_by IS NOT NULL;

-- The dependency reconciler walks waiting jobs by id; finished rows never enter this index.
CREATE INDEX jobs_waiting_idx ON jobs (id) WHERE state = 'waiting';

-- The lease the worker claims with: a worker is stale only once it has been silent for longer
-- than that (and the sweep's floor), so long leases are never taken from healthy workers.
ALTER TABLE workers ADD COLUMN lease_seconds double precision CHECK (lease_seconds > 0);

-- Unique keys of pruned jobs: re-running an enqueue after pruning skips them instead of adding
-- (and running) the jobs again. Deleted with their batch.
CREATE TABLE job_keys_retired (
  unique_key  text PRIMARY KEY,
  batch_id    bigint,
  retired_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX job_keys_retired_batch_idx ON job_keys_retired (batch_id) WHERE batch_id IS NOT NULL;
