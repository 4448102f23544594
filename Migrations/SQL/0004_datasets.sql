-- Dataset curation (design/curation.md): datasets, one row per image, the jobs each dataset
-- planned, the multi-index band table for exact Hamming search, and near-duplicate edges.
-- Sources/Datasets holds every statement.

CREATE TYPE dataset_item_status AS ENUM (
  'pending',    -- copied in by `dataset ingest`, not yet read by a curate.ingest job
  'ok',         -- decoded and passed every filter
  'bad',        -- did not read or decode; reason holds the decoder's message
  'filtered',   -- decoded, failed at least one filter; reason names each one
  'duplicate'   -- same bytes as (reason 'exact') or near (reason 'near') its duplicate_of
);

CREATE TABLE dataset (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name        text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$'),
  -- Filter settings (DataComp defaults; 0 switches a filter off), see Curation.FilterSettings.
  filters     jsonb NOT NULL DEFAULT '{}',
  -- The last dedupe's settings: hash kind, distance d and band count k = d + 1.
  dedupe_hash text NOT NULL DEFAULT 'phash' CHECK (dedupe_hash IN ('ahash', 'phash', 'dhash', 'whash')),
  dedupe_distance smallint NOT NULL DEFAULT 4 CHECK (dedupe_distance BETWEEN 0 AND 32),
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE dataset_item (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  dataset_id   bigint NOT NULL REFERENCES dataset (id) ON DELETE CASCADE,
  source       text NOT NULL,
  sha256       text,
  width        integer,
  height       integer,
  format       text,
  bytes        bigint,
  -- The four imagehash hashes, the same 64 bits as int8 (two's complement).
  ahash        bigint,
  phash        bigint,
  dhash        bigint,
  whash        bigint,
  status       dataset_item_status NOT NULL DEFAULT 'pending',
  reason       text,
  duplicate_of bigint,
  -- Hamming distance to duplicate_of on the dedupe hash (0 for exact copies).
  distance     smallint,
  group_id     bigint,
  metadata     jsonb NOT NULL DEFAULT '{}',
  caption      text,
  answers      jsonb,
  UNIQUE (dataset_id, source)
);

CREATE INDEX dataset_item_status_idx ON dataset_item (dataset_id, status, id);
CREATE INDEX dataset_item_sha256_idx ON dataset_item (dataset_id, sha256) WHERE sha256 IS NOT NULL;

-- The jobs each dataset planned, by stage, so progress and dependencies need no scan of jobs.
CREATE TABLE dataset_job (
  dataset_id bigint NOT NULL REFERENCES dataset (id) ON DELETE CASCADE,
  stage      text NOT NULL CHECK (stage IN ('ingest', 'dedupe', 'caption', 'shard')),
  job_id     bigint NOT NULL,
  PRIMARY KEY (dataset_id, stage, job_id)
);

-- Multi-index hashing: the dedupe hash split into k = d + 1 bands; two hashes within d bits agree
-- exactly on at least one band (pigeonhole), so candidates are index range lookups.
CREATE TABLE dataset_band (
  dataset_id bigint NOT NULL REFERENCES dataset (id) ON DELETE CASCADE,
  band       smallint NOT NULL,
  value      integer NOT NULL,
  item_id    bigint NOT NULL,
  hash       bigint NOT NULL,
  PRIMARY KEY (dataset_id, band, value, item_id)
);

-- Verified near pairs (a < b), each within d on the dedupe hash.
CREATE TABLE dataset_edge (
  dataset_id bigint NOT NULL REFERENCES dataset (id) ON DELETE CASCADE,
  a          bigint NOT NULL,
  b          bigint NOT NULL,
  distance   smallint NOT NULL,
  PRIMARY KEY (dataset_id, a, b)
);
