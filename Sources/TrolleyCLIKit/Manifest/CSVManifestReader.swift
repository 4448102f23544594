public import TrolleyBasics
import TrolleyJobContracts

/// Reads a CSV or TSV manifest with a header row: an image column (path or URL), optional
/// question, prompt and id columns, and any other columns kept as string metadata.
public final class CSVManifestReader: ManifestReader {
  private let records: CSVRecordReader
  private let header: [String]
  private let imageColumn: Int
  private let questionColumn: Int?
  private let promptColumn: Int?
  private let idColumn: Int?
  private let baseDirectory: String

  /// Opens `path` and reads its header row.
  /// - Parameters:
  ///   - delimiter: A comma (CSV) or a tab (TSV).
  ///   - columns: Column names chosen on the command line, else the usual ones.
  /// - Throws: `CLIError.invalidManifest` if there is no usable header, `.notFound`/`.io` otherwise.
  public init(
    path: String, delimiter: UInt8 = UInt8(ascii: ","), columns: ManifestColumnChoice = .standard
  ) throws(CLIError) {
    records = try CSVRecordReader(path: path, delimiter: delimiter)
    let format = delimiter == UInt8(ascii: ",") ? "CSV" : "TSV"
    guard let first = try records.next() else {
      throw CLIError(
        .invalidManifest,
        "\(path) is empty. A \(format) manifest needs a header row, for example: image"
          + (delimiter == UInt8(ascii: ",") ? "," : "<tab>") + "question")
    }
    guard case .fields(_, let names) = first else {
      throw CLIError(
        .invalidManifest, "\(path): the header row (line 1) is not valid CSV. \(first.reason)")
    }
    let normalized = names.map { $0.trimmingSpaces().lowercased() }
    var seen: Set<String> = []
    for name in normalized where !seen.insert(name).inserted {
      throw CLIError(
        .invalidManifest,
        "\(path): the header names the column \"\(name)\" twice. Give each column its own name.")
    }
    if let chosen = columns.image, !normalized.contains(chosen) {
      throw CLIError(
        .invalidManifest,
        "\(path): --image-column \(chosen) is not in the header (it has: "
          + "\(normalized.joined(separator: ", "))).")
    }
    if let chosen = columns.question, !normalized.contains(chosen) {
      throw CLIError(
        .invalidManifest,
        "\(path): --question-column \(chosen) is not in the header (it has: "
          + "\(normalized.joined(separator: ", "))).")
    }
    let imageCandidates = normalized.indices.filter {
      if let chosen = columns.image { return normalized[$0] == chosen }
      return ManifestColumns.image.contains(normalized[$0])
    }
    guard let image = imageCandidates.first else {
      throw CLIError(
        .invalidManifest,
        "\(path): the header row has no image column (it has: \(normalized.joined(separator: ", "))). "
          + "In the header, \(ManifestColumns.hint).")
    }
    guard imageCandidates.count == 1 else {
      throw CLIError(
        .invalidManifest,
        "\(path): the header has several image columns ("
          + imageCandidates.map { normalized[$0] }.joined(separator: ", ")
          + "). Keep one and rename the others, or pick one with --image-column.")
    }
    header = normalized
    imageColumn = image
    if let chosen = columns.question {
      // The chosen column fills both: answer jobs read the question, caption jobs the prompt.
      questionColumn = normalized.firstIndex(of: chosen)
      promptColumn = normalized.firstIndex(of: chosen)
    } else {
      questionColumn = normalized.firstIndex(of: ManifestColumns.question)
      promptColumn = normalized.firstIndex(of: ManifestColumns.prompt)
    }
    idColumn = normalized.firstIndex(of: ManifestColumns.id)
    baseDirectory = ImagePath.directory(
      of: ImagePath.resolve(path, relativeTo: ImagePath.currentDirectory()))
  }

  public func next() throws(CLIError) -> ManifestEntry? {
    guard let record = try records.next() else { return nil }
    switch record {
    case .malformed(let line, let reason):
      return .issue(ManifestIssue(line: line, message: reason))
    case .fields(let line, let fields):
      guard fields.count == header.count else {
        return .issue(
          ManifestIssue(
            line: line,
            message: "expected \(header.count) fields as in the header, found \(fields.count); "
              + "put fields that contain the separator in double quotes"))
      }
      let image = fields[imageColumn].trimmingSpaces()
      guard !image.isEmpty else {
        return .issue(
          ManifestIssue(line: line, message: "the \(header[imageColumn]) field is empty"))
      }
      var row = ManifestRow(line: line, image: ImagePath.resolve(image, relativeTo: baseDirectory))
      row.question = questionColumn.flatMap { fields[$0].isEmpty ? nil : fields[$0] }
      row.prompt = promptColumn.flatMap { fields[$0].isEmpty ? nil : fields[$0] }
      row.id = idColumn.flatMap { fields[$0].isEmpty ? nil : fields[$0] }
      for (index, name) in header.enumerated()
      where index != imageColumn && index != questionColumn && index != promptColumn
        && index != idColumn
      {
        row.metadata.append(JSONValue.Member(name, .string(fields[index])))
      }
      return .row(row)
    }
  }
}

extension CSVRecordReader.Record {
  var reason: String {
    if case .malformed(_, let reason) = self {
      return reason.prefix(1).uppercased() + reason.dropFirst() + "."
    }
    return ""
  }
}

extension String {
  /// The string without leading and trailing spaces and tabs.
  func trimmingSpaces() -> String {
    var view = Substring(self)
    while let first = view.first, first == " " || first == "\t" { view.removeFirst() }
    while let last = view.last, last == " " || last == "\t" { view.removeLast() }
    return String(view)
  }
}
