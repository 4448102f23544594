public import Curation
public import Postgres

extension DatasetStore {
  // The SQL twin of FilterSettings.reasons: same names, same order, same comparisons. Items
  // that are bad, pending or duplicates keep their verdict.
  static let filterApplySQL = #"""
    UPDATE dataset_item d SET
      status = CASE WHEN r.reasons = '' THEN 'ok' ELSE 'filtered' END::dataset_item_status,
      reason = nullif(r.reasons, '')
    FROM (
      SELECT id, concat_ws(',',
        CASE WHEN $2 > 0 AND least(width, height) < $2 THEN 'min_side' END,
        CASE WHEN $3 > 0 AND greatest(width, height)::float8 > $3 * least(width, height)
             THEN 'max_aspect' END,
        CASE WHEN cardinality($4::text[]) > 0 AND NOT (format = ANY($4::text[])) THEN 'format' END,
        CASE WHEN $5 > 0 AND bytes > $5 THEN 'max_bytes' END,
        CASE WHEN caption IS NOT NULL AND $6 > 0 AND
               (CASE WHEN btrim(caption) = '' THEN 0
                     ELSE array_length(regexp_split_to_array(btrim(caption), '\s+'), 1) END) <= $6
             THEN 'caption_words' END,
        CASE WHEN caption IS NOT NULL AND $7 > 0 AND char_length(caption) <= $7
             THEN 'caption_chars' END) AS reasons
      FROM dataset_item WHERE dataset_id = $1 AND status IN ('ok', 'filtered')) r
    WHERE d.id = r.id
      AND (d.status::text, coalesce(d.reason, '')) IS DISTINCT FROM
          (CASE WHEN r.reasons = '' THEN 'ok' ELSE 'filtered' END, r.reasons)
    """#

  /// Stores `filters` and re-applies them to every decoded item without decoding again.
  /// - Returns: the items whose verdict changed.
  public func filterApply(dataset name: String, filters: FilterSettings) async throws -> Int {
    try await client.withTransaction { connection in
      let dataset = try self.datasetGet(name: name, on: connection)
      try self.datasetSetFilters(id: dataset.id, filters: filters, on: connection)
      return try connection.query(
        Self.filterApplySQL,
        [
          dataset.id, Int64(filters.minSide), filters.maxAspect, filters.formats,
          Int64(filters.maxBytes), Int64(filters.captionWords), Int64(filters.captionChars),
        ],
        name: "filterApply"
      ).affectedRowCount
    }
  }
}
