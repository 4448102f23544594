/// `trol.answer`: image + question -> answer (docs/cli.md, "Job payloads and results").
public enum TrolAnswer: JobContract {
  public static let kind = JobKindName.trolAnswer

  /// As `trolley enqueue answer` writes it. Unknown keys (for instance `timeout_seconds`, which
  /// the worker reads for every kind) are ignored here.
  public struct Payload: Codable, Sendable, Equatable {
    /// A local path, `file://` or `http(s)://` URL.
    public var image: String
    public var question: String
    /// The manifest's id for this row, if it had one.
    public var id: String?
    /// The manifest row's extra columns, kept for export; the worker ignores them.
    public var metadata: JobJSON?
    /// Most new tokens (default: the worker's `--max-new-tokens`).
    public var maxNewTokens: Int?
    /// Beam search with this many beams instead of greedy.
    public var beams: Int?
    /// The `dataset_item` whose entry for `question` receives the answer (`trolley dataset
    /// caption --questions`); absent for jobs that are not part of a dataset.
    public var datasetItem: Int64?

    /// A payload with the required fields; set the optional ones as needed.
    public init(image: String, question: String) {
      self.image = image
      self.question = question
    }

    // The order here is the order on the wire (`JobJSONEncoder` follows it).
    enum CodingKeys: String, CodingKey {
      case image, question, id, metadata
      case maxNewTokens = "max_new_tokens"
      case beams
      case datasetItem = "dataset_item"
    }
  }

  public struct Result: Codable, Sendable, Equatable {
    public var answer: String
    public var model: String
    public var tokens: Int
    public var finishReason: String
    /// Where the time went, as the engine reports it (`image_preprocessing_s`, `prefill_s`,
    /// `decode_tokens_per_s`...).
    public var timings: JobJSON
    /// What produced the result: the model's identity (hub id and revision, or a SHA-256 of the
    /// weights), the weight format, the generation settings and Trolley's version and commit
    /// (docs/cli.md). Absent in results written before it was recorded.
    public var provenance: JobJSON?

    public init(
      answer: String, model: String, tokens: Int, finishReason: String, timings: JobJSON,
      provenance: JobJSON? = nil
    ) {
      self.answer = answer
      self.model = model
      self.tokens = tokens
      self.finishReason = finishReason
      self.timings = timings
      self.provenance = provenance
    }

    enum CodingKeys: String, CodingKey {
      case answer, model, tokens, timings, provenance
      case finishReason = "finish_reason"
    }
  }
}
