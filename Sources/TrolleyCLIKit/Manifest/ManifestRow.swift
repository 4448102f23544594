/// One job's inputs as read from a folder, a glob or a manifest, before validation.
public struct ManifestRow: Sendable, Equatable {
  /// Where the row starts: the manifest's 1-based line, or the file's ordinal in a folder walk.
  public var line: Int
  /// An absolute local path or a URL (`file://`, `http(s)://`).
  public var image: String
  /// The row's question, if the manifest has one.
  public var question: String?
  /// The row's caption prompt, if the manifest has one.
  public var prompt: String?
  /// The row's own identifier, if the manifest has one; it then decides the job's unique key.
  public var id: String?
  /// Every other column or key, in manifest order.
  public var metadata: [JSONValue.Member]

  public init(
    line: Int, image: String, question: String? = nil, prompt: String? = nil, id: String? = nil,
    metadata: [JSONValue.Member] = []
  ) {
    self.line = line
    self.image = image
    self.question = question
    self.prompt = prompt
    self.id = id
    self.metadata = metadata
  }
}

/// A row that was skipped, and why.
public struct ManifestIssue: Error, Sendable, Equatable, CustomStringConvertible {
  /// The manifest's 1-based line where the bad row starts.
  public var line: Int
  /// What was wrong with the row.
  public var message: String

  public init(line: Int, message: String) {
    self.line = line
    self.message = message
  }

  public var description: String { "line \(line): \(message)" }
}

/// What a manifest reader yields: a usable row, or a bad one with its reason.
public enum ManifestEntry: Sendable, Equatable {
  case row(ManifestRow)
  case issue(ManifestIssue)
}

/// A streaming source of manifest entries; memory does not grow with the number of rows.
public protocol ManifestReader: AnyObject {
  /// The next entry, or nil when the source is exhausted.
  /// - Throws: `CLIError` when the source as a whole cannot be read.
  func next() throws(CLIError) -> ManifestEntry?
}
