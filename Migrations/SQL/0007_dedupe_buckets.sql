-- The band index as buckets (docs/curation.md, "Dedupe"): one row per dataset, band and band key,
-- holding every kept item whose hash has that key on the band, ids and hashes as parallel arrays
-- in id order. 0004's dataset_band held one row per item and band: at 1M items and d = 4 that is
-- 5M heap tuples, 5M primary-key entries and 5M foreign-key checks, most of a batch dedupe's time.
-- A bucket is exactly what the pairs step scans and what a lookup probes, so one row per bucket
-- serves both, at about 8,000 rows per 13-bit band. The index is derived data: the next dedupe
-- rebuilds it, so the old rows are dropped, not converted.
DROP TABLE dataset_band;

CREATE TABLE dataset_bucket (
  dataset_id bigint NOT NULL REFERENCES dataset (id) ON DELETE CASCADE,
  band       smallint NOT NULL,
  -- The band's 31-bit key (Curation.BandLayout.value).
  value      integer NOT NULL,
  item_ids   bigint[] NOT NULL,
  -- hashes[i] is the dedupe hash of item_ids[i].
  hashes     bigint[] NOT NULL,
  PRIMARY KEY (dataset_id, band, value)
);

-- Random 64-bit values do not compress: store large buckets out of line without trying.
ALTER TABLE dataset_bucket ALTER COLUMN item_ids SET STORAGE EXTERNAL;
ALTER TABLE dataset_bucket ALTER COLUMN hashes SET STORAGE EXTERNAL;
