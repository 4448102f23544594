public import TrolleyJobContracts

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
  public var metadata: [JSONValue.Member] = []
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

  /// Files a folder walk passed over, and why (all counted, the first few kept).
  var skippedFiles: SkippedFiles { get }
}

extension ManifestReader {
  public var skippedFiles: SkippedFiles { SkippedFiles() }
}

/// Files a folder walk did not enqueue, and why: every one is counted, the first
/// `SkippedFiles.listed` are kept for the report, so a folder of `.heic` photos is never
/// skipped without a word.
public struct SkippedFiles: Sendable, Equatable {
  public struct File: Sendable, Equatable {
    public var path: String
    public var reason: String
  }

  /// How many are listed in `first`.
  public static let listed = 20
  public private(set) var count = 0
  public private(set) var first: [File] = []

  public init() {}

  mutating func record(_ path: String, _ reason: String) {
    count += 1
    if first.count < Self.listed { first.append(File(path: path, reason: reason)) }
  }

  /// Adds another record's files after these.
  mutating func absorb(_ other: SkippedFiles) {
    count += other.count
    first += other.first.prefix(Self.listed - first.count)
  }
}
