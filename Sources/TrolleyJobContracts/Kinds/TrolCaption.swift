/// `trol.caption`: image -> caption (docs/cli.md, "Job payloads and results").
public enum TrolCaption: JobContract {
  public static let kind = JobKindName.trolCaption

  /// As `trolley enqueue caption` writes it.
  public struct Payload: Codable, Sendable, Equatable {
    /// A local path, `file://` or `http(s)://` URL.
    public var image: String
    /// The caption instruction; the worker's `--caption-prompt` when absent or empty.
    public var prompt: String?
    public var id: String?
    /// The manifest row's extra columns, kept for export; the worker ignores them.
    public var metadata: JobJSON?
    public var maxNewTokens: Int?
    /// The `dataset_item` that receives the caption (`trolley dataset caption`); absent for
    /// jobs that are not part of a dataset.
    public var datasetItem: Int64?

    /// A payload with the required field; set the optional ones as needed.
    public init(image: String, prompt: String? = nil) {
      self.image = image
      self.prompt = prompt
    }

    enum CodingKeys: String, CodingKey {
      case image, prompt, id, metadata
      case maxNewTokens = "max_new_tokens"
      case datasetItem = "dataset_item"
    }
  }

  public struct Result: Codable, Sendable, Equatable {
    public var caption: String
    /// The prompt the caption answers (the payload's, or the worker's default).
    public var prompt: String
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
      caption: String, prompt: String, model: String, tokens: Int, finishReason: String,
      timings: JobJSON, provenance: JobJSON? = nil
    ) {
      self.caption = caption
      self.prompt = prompt
      self.model = model
      self.tokens = tokens
      self.finishReason = finishReason
      self.timings = timings
      self.provenance = provenance
    }

    enum CodingKeys: String, CodingKey {
      case caption, prompt, model, tokens, timings, provenance
      case finishReason = "finish_reason"
    }
  }
}
