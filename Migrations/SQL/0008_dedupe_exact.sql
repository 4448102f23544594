-- Whether the dataset's last dedupe grouped byte-identical copies only (`trolley dataset dedupe
-- --exact`): its dedupe_hash and dedupe_distance were then recorded but not used, and
-- `dataset list` says "exact" instead of hash@distance.
ALTER TABLE dataset ADD COLUMN dedupe_exact boolean NOT NULL DEFAULT false;
