public import Postgres

extension DatasetStore {
  static let captionTargetsSQL = """
    SELECT id, source FROM dataset_item
    WHERE dataset_id = $1 AND status = 'ok' AND caption IS NULL ORDER BY id
    """

  // Adds an unanswered entry for the question to every kept item that has none for it.
  static let questionAddSQL = """
    UPDATE dataset_item
    SET answers = coalesce(answers, '[]'::jsonb) || jsonb_build_array(jsonb_build_object('question', $2::text))
    WHERE dataset_id = $1 AND status = 'ok'
      AND NOT coalesce(answers, '[]'::jsonb) @> jsonb_build_array(jsonb_build_object('question', $2::text))
    """

  static let questionTargetsSQL = """
    SELECT id, source FROM dataset_item
    WHERE dataset_id = $1 AND status = 'ok' AND EXISTS (
      SELECT 1 FROM jsonb_array_elements(answers) AS entry
      WHERE entry->>'question' = $2 AND entry->'answer' IS NULL)
    ORDER BY id
    """

  // Writing the same caption again changes nothing, so a retried job is harmless.
  static let captionWriteSQL = """
    UPDATE dataset_item
    SET caption = $2, metadata = metadata || jsonb_build_object('caption_prompt', $3::text)
    WHERE id = $1
    """

  // Fills the question's first unanswered entry; an entry already answered (a manifest's answer,
  // or an earlier attempt of the same job) is kept, so the write is idempotent.
  static let answerWriteSQL = """
    UPDATE dataset_item AS d SET answers = (
      SELECT jsonb_agg(
        CASE WHEN entry.n = first_open.n THEN entry.e || jsonb_build_object('answer', $3::text)
             ELSE entry.e END ORDER BY entry.n)
      FROM jsonb_array_elements(d.answers) WITH ORDINALITY AS entry(e, n),
        (SELECT min(o.n) AS n FROM jsonb_array_elements(d.answers) WITH ORDINALITY AS o(e, n)
         WHERE o.e->>'question' = $2 AND o.e->'answer' IS NULL) AS first_open)
    WHERE d.id = $1 AND EXISTS (
      SELECT 1 FROM jsonb_array_elements(d.answers) AS open
      WHERE open->>'question' = $2 AND open->'answer' IS NULL)
    """

  /// Kept items without a caption.
  public func captionTargets(datasetID: Int64, on connection: PostgresConnection) throws
    -> [ItemSource]
  {
    try ItemSource.decode(
      try connection.query(Self.captionTargetsSQL, [datasetID], name: "captionTargets"))
  }

  /// Gives every kept item an entry for `question` and returns those whose entry has no answer.
  public func questionTargets(
    datasetID: Int64, question: String, on connection: PostgresConnection
  ) throws -> [ItemSource] {
    try connection.query(Self.questionAddSQL, [datasetID, question], name: "questionAdd")
    return try ItemSource.decode(
      try connection.query(
        Self.questionTargetsSQL, [datasetID, question], name: "questionTargets"))
  }

  /// Stores a trol.caption job's caption and the prompt it answers in its item.
  public func captionWrite(itemID: Int64, caption: String, prompt: String) async throws {
    try await client.query(Self.captionWriteSQL, [itemID, caption, prompt])
  }

  /// Stores a trol.answer job's answer in its item's entry for the question.
  /// - Returns: false when the entry was already answered (or is gone).
  @discardableResult
  public func answerWrite(itemID: Int64, question: String, answer: String) async throws -> Bool {
    try await client.query(Self.answerWriteSQL, [itemID, question, answer]).affectedRowCount > 0
  }
}
