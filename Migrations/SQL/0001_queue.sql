-- The job queue: jobs, batches with exact cheap counters, dependencies, workers, queues, crash evidence.
-- docs/queue.md explains every state and every edge; Sources/JobQueue/Store holds every statement.
-- Tables are unqualified so that a whole queue can live in any schema or database (the benchmark uses its own).

-- The closed set of job states (Sources/JobQueue/JobState.swift mirrors it, case for case).
CREATE TYPE job_state AS ENUM (
  'waiting',    -- enqueued with dependencies that have not all succeeded yet
  'scheduled',  -- enqueued to run later (run_at in the future)
  'available',  -- ready to be claimed
  'running',    -- claimed by a worker that holds its lease
  'retrying',   -- failed with a retryable error; available again at run_at
  'succeeded',  -- finished with a result (terminal)
  'dead',       -- error budget spent, permanent error, or quarantined after repeated crashes (terminal)
  'cancelled'   -- cancelled by an operator or because a dependency ended dead/cancelled (terminal)
);

-- Named groups of jobs. Counts live in batch_counts/batch_count_deltas, never in a COUNT over jobs.
CREATE TABLE batches (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name        text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
  metadata    jsonb NOT NULL DEFAULT '{}',
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE jobs (
  id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  queue                text NOT NULL DEFAULT 'default' CHECK (length(queue) BETWEEN 1 AND 100),
  kind                 text NOT NULL CHECK (length(kind) BETWEEN 1 AND 100),
  payload              jsonb NOT NULL DEFAULT '{}',
  -- Lower runs first.
  priority             smallint NOT NULL DEFAULT 0,
  state                job_state NOT NULL DEFAULT 'available',
  run_at               timestamptz NOT NULL DEFAULT now(),
  -- Claims so far (every claim increments it, whatever ended the attempt).
  attempt              integer NOT NULL DEFAULT 0 CHECK (attempt >= 0),
  -- Error budget: the job goes dead when error_count reaches max_attempts.
  max_attempts         integer NOT NULL DEFAULT 5 CHECK (max_attempts >= 1),
  error_count          integer NOT NULL DEFAULT 0 CHECK (error_count >= 0),
  -- Crash budget, separate: a job whose lease expires max_crashes times is quarantined (dead).
  max_crashes          integer NOT NULL DEFAULT 3 CHECK (max_crashes >= 1),
  crash_count          integer NOT NULL DEFAULT 0 CHECK (crash_count >= 0),
  -- The lease. lease_token is the fencing token: every write by the holder names it.
  lease_owner          bigint,
  lease_token          bigint,
  lease_expires_at     timestamptz,
  cancel_requested_at  timestamptz,
  -- A number the job reports with its heartbeats (for example a fraction done).
  progress             double precision,
  last_error           text,
  result               jsonb,
  -- No foreign key: a per-row RI check would halve COPY enqueue; JobStore deletes a batch's jobs itself.
  batch_id             bigint,
  unique_key           text,
  pending_dependencies integer NOT NULL DEFAULT 0 CHECK (pending_dependencies >= 0),
  -- Set once another job depends on this one, so completions look for dependents only when needed.
  has_dependents       boolean NOT NULL DEFAULT false,
  created_at           timestamptz NOT NULL DEFAULT now(),
  attempted_at         timestamptz,
  finished_at          timestamptz,

  CONSTRAINT jobs_finished_at_iff_terminal
    CHECK ((finished_at IS NOT NULL) = (state IN ('succeeded', 'dead', 'cancelled'))),
  CONSTRAINT jobs_lease_iff_running CHECK (
    CASE WHEN state = 'running'
      THEN lease_owner IS NOT NULL AND lease_token IS NOT NULL AND lease_expires_at IS NOT NULL
      ELSE lease_owner IS NULL AND lease_token IS NULL AND lease_expires_at IS NULL
    END),
  CONSTRAINT jobs_waiting_has_dependencies
    CHECK (state <> 'waiting' OR pending_dependencies > 0),
  CONSTRAINT jobs_payload_is_object CHECK (jsonb_typeof(payload) = 'object')
);

-- Hot path: the claim. Partial, so millions of finished rows never enter it; one queue per claim
-- keeps the scan ordered (priority, run_at, id) with no sort.
CREATE INDEX jobs_claim_idx ON jobs (queue, priority, run_at, id) WHERE state = 'available';
-- The scheduler promotes due scheduled/retrying jobs.
CREATE INDEX jobs_due_idx ON jobs (run_at) WHERE state IN ('scheduled', 'retrying');
-- The rescuer finds expired leases; cancel/sweep find a worker's jobs.
CREATE INDEX jobs_lease_idx ON jobs (lease_expires_at) WHERE state = 'running';
-- Retention deletes the oldest finished rows first.
CREATE INDEX jobs_finished_idx ON jobs (finished_at) WHERE state IN ('succeeded', 'dead', 'cancelled');
-- Idempotent enqueue: a key is used once for as long as its job exists.
CREATE UNIQUE INDEX jobs_unique_key_idx ON jobs (unique_key) WHERE unique_key IS NOT NULL;
-- Listing, export and retry by batch.
CREATE INDEX jobs_batch_idx ON jobs (batch_id, id) WHERE batch_id IS NOT NULL;
-- Retry by filter and listings of dead jobs stay small however many jobs succeeded.
CREATE INDEX jobs_dead_idx ON jobs (batch_id) WHERE state = 'dead';

-- A job in state 'waiting' waits for every row here with job_id = its id.
CREATE TABLE job_dependencies (
  job_id      bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  depends_on  bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  PRIMARY KEY (job_id, depends_on),
  CHECK (job_id <> depends_on)
);
CREATE INDEX job_dependencies_depends_on_idx ON job_dependencies (depends_on);

-- Evidence for quarantine: one row per lease that expired (a crash, OOM kill, lost host...).
CREATE TABLE job_crashes (
  job_id            bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  attempt           integer NOT NULL,
  worker_id         bigint,
  host              text,
  pid               integer,
  claimed_at        timestamptz,
  lease_expired_at  timestamptz NOT NULL,
  detected_at       timestamptz NOT NULL,
  PRIMARY KEY (job_id, attempt)
);

-- Every worker process registers here and heartbeats; the sweeper marks silent ones stale.
CREATE TABLE workers (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  host          text NOT NULL,
  pid           integer NOT NULL,
  version       text NOT NULL,
  queues        text[] NOT NULL,
  kinds         text[] NOT NULL,
  capacity      integer NOT NULL CHECK (capacity >= 1),
  state         text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'stale', 'stopped')),
  started_at    timestamptz NOT NULL DEFAULT now(),
  heartbeat_at  timestamptz NOT NULL DEFAULT now(),
  stopped_at    timestamptz,
  CHECK ((state = 'active') = (stopped_at IS NULL))
);
CREATE INDEX workers_active_idx ON workers (heartbeat_at) WHERE state = 'active';

-- Queues exist implicitly; a row here only records that one is paused.
CREATE TABLE queues (
  name        text PRIMARY KEY,
  paused_at   timestamptz,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Exact batch counters without contention: every statement that moves jobs appends per-(batch, state)
-- deltas (a statement-level trigger over the transition tables, so no code path can forget), and the
-- rollup service folds them into batch_counts. A status read sums batch_counts and the few pending
-- deltas of one batch in one snapshot, so it is exact and never touches jobs.
CREATE TABLE batch_counts (
  batch_id  bigint NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
  state     job_state NOT NULL,
  n         bigint NOT NULL,
  PRIMARY KEY (batch_id, state)
);

CREATE TABLE batch_count_deltas (
  id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  batch_id  bigint NOT NULL,
  state     job_state NOT NULL,
  delta     bigint NOT NULL,
  at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX batch_count_deltas_batch_idx ON batch_count_deltas (batch_id);

-- Jobs that reached a terminal state, per batch and minute: throughput and ETA without scanning jobs.
CREATE TABLE batch_minutes (
  batch_id  bigint NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
  minute    timestamptz NOT NULL,
  finished  bigint NOT NULL,
  PRIMARY KEY (batch_id, minute)
);

CREATE FUNCTION jobs_capture_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO batch_count_deltas (batch_id, state, delta)
  SELECT batch_id, state, count(*) FROM inserted_rows WHERE batch_id IS NOT NULL GROUP BY 1, 2;
  RETURN NULL;
END
$$;

CREATE FUNCTION jobs_capture_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Rows whose state did not change cancel out (heartbeats, progress) and add nothing.
  INSERT INTO batch_count_deltas (batch_id, state, delta)
  SELECT batch_id, state, sum(d) FROM (
    SELECT batch_id, state, 1 AS d FROM new_rows WHERE batch_id IS NOT NULL
    UNION ALL
    SELECT batch_id, state, -1 AS d FROM old_rows WHERE batch_id IS NOT NULL
  ) moved
  GROUP BY 1, 2 HAVING sum(d) <> 0;
  RETURN NULL;
END
$$;

-- Pruning deliberately leaves counters alone: a batch's counts record what happened to its jobs.
CREATE TRIGGER jobs_count_inserted AFTER INSERT ON jobs
  REFERENCING NEW TABLE AS inserted_rows FOR EACH STATEMENT EXECUTE FUNCTION jobs_capture_inserted();
CREATE TRIGGER jobs_count_updated AFTER UPDATE ON jobs
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION jobs_capture_updated();

-- One sequence hands out fencing tokens: one per claim statement, strictly increasing.
CREATE SEQUENCE job_lease_token_seq;
