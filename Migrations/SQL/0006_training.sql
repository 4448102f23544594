-- Distributed training (docs/training-runs.md): runs, and their immutable artifacts (round
-- checkpoints, shard deltas, AdamW states), named like RUN/r0003/s02/delta.
CREATE TABLE training_runs (
  name        text PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$'),
  -- The run's settings (model, data, R, K, H, B, lrs, seed...) as `trolley train start` wrote them.
  settings    jsonb NOT NULL,
  batch_id    bigint NOT NULL,
  -- NULL: artifacts live in PostgreSQL; else the operator's shared directory.
  artifacts_dir text,
  -- Rounds `train export` wrote; retention never prunes them.
  exported_rounds integer[] NOT NULL DEFAULT '{}',
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per artifact; the sha256 is kept here whichever storage holds the bytes.
CREATE TABLE training_artifacts (
  name        text PRIMARY KEY,
  run         text NOT NULL REFERENCES training_runs (name) ON DELETE CASCADE,
  sha256      text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  size        bigint NOT NULL CHECK (size >= 0),
  -- The job whose fenced attempt wrote it (NULL for the base, written by `train start`).
  job_id      bigint,
  in_database boolean NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX training_artifacts_run ON training_artifacts (run);

-- The bytes of database-stored artifacts, in 1 MiB chunks. EXTERNAL: out of line, uncompressed
-- (float tensors do not compress, and slicing stays cheap).
CREATE TABLE training_artifact_chunks (
  name   text NOT NULL REFERENCES training_artifacts (name) ON DELETE CASCADE,
  seq    integer NOT NULL CHECK (seq >= 0),
  bytes  bytea NOT NULL,
  PRIMARY KEY (name, seq)
);
ALTER TABLE training_artifact_chunks ALTER COLUMN bytes SET STORAGE EXTERNAL;
