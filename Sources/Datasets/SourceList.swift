import Foundation

/// Expands `dataset ingest --images` into image sources: a folder (walked recursively, image
/// extensions only), a glob pattern, or a manifest (`.jsonl` with an `image` or `url` field per
/// line, `.csv` with an `image`, `url` or `source` column, `.txt` with one source per line).
/// Local paths become absolute, so workers in other directories find them; URLs pass unchanged.
public enum SourceList {
  static let imageExtensions: Set<String> = ["jpg", "jpeg", "png", "webp", "gif", "bmp"]

  public static func expand(_ spec: String) throws -> [String] {
    let fm = FileManager.default
    var isDirectory: ObjCBool = false
    if fm.fileExists(atPath: spec, isDirectory: &isDirectory) {
      if isDirectory.boolValue { return try folder(spec) }
      let ext = (spec as NSString).pathExtension.lowercased()
      switch ext {
      case "jsonl", "ndjson": return try jsonl(spec)
      case "csv": return try csv(spec)
      case "txt", "lst": return try lines(spec)
      default:
        if imageExtensions.contains(ext) { return [absolute(spec)] }
        throw DatasetError(
          .invalidRequest,
          "\(spec) is neither a folder, an image nor a manifest (.jsonl, .csv or .txt)")
      }
    }
    if spec.contains("*") || spec.contains("?") || spec.contains("[") { return try glob(spec) }
    throw DatasetError(
      .invalidRequest, "--images \(spec): no such folder, file or glob match; check the path")
  }

  static func absolute(_ path: String) -> String {
    let lower = path.lowercased()
    if lower.hasPrefix("http://") || lower.hasPrefix("https://") || lower.hasPrefix("file://") {
      return path
    }
    return URL(fileURLWithPath: path).standardizedFileURL.path
  }

  static func folder(_ path: String) throws -> [String] {
    let root = URL(fileURLWithPath: path).standardizedFileURL
    guard
      let walker = FileManager.default.enumerator(
        at: root, includingPropertiesForKeys: [.isRegularFileKey])
    else {
      throw DatasetError(.invalidRequest, "cannot list folder \(path)")
    }
    var found: [String] = []
    for case let url as URL in walker
    where imageExtensions.contains(url.pathExtension.lowercased()) {
      found.append(url.standardizedFileURL.path)
    }
    return found.sorted()
  }

  static func glob(_ pattern: String) throws -> [String] {
    var result = glob_t()
    defer { globfree(&result) }
    let status = Foundation.glob(pattern, 0, nil, &result)
    guard status == 0 else {
      throw DatasetError(.invalidRequest, "--images \(pattern): the glob matches no file")
    }
    var found: [String] = []
    for i in 0..<Int(result.gl_pathc) {
      if let c = result.gl_pathv[i] { found.append(absolute(String(cString: c))) }
    }
    return found.sorted()
  }

  static func read(_ path: String) throws -> String {
    do {
      return try String(contentsOfFile: path, encoding: .utf8)
    } catch {
      throw DatasetError(
        .invalidRequest, "cannot read manifest \(path): \(error.localizedDescription)")
    }
  }

  static func resolve(_ source: String, relativeTo manifest: String) -> String {
    let lower = source.lowercased()
    if lower.hasPrefix("http://") || lower.hasPrefix("https://") || lower.hasPrefix("file://")
      || source.hasPrefix("/")
    {
      return source
    }
    let base = URL(fileURLWithPath: manifest).deletingLastPathComponent()
    return base.appendingPathComponent(source).standardizedFileURL.path
  }

  static func jsonl(_ path: String) throws -> [String] {
    var found: [String] = []
    for (number, line) in try read(path).split(separator: "\n").enumerated() {
      let trimmed = line.trimmingCharacters(in: .whitespaces)
      if trimmed.isEmpty { continue }
      guard
        let object = try? JSONSerialization.jsonObject(with: Data(trimmed.utf8)) as? [String: Any],
        let source = (object["image"] ?? object["url"] ?? object["source"]) as? String
      else {
        throw DatasetError(
          .invalidRequest,
          "\(path) line \(number + 1): expected a JSON object with an \"image\" (or \"url\") string"
        )
      }
      found.append(resolve(source, relativeTo: path))
    }
    return found
  }

  static func csv(_ path: String) throws -> [String] {
    let rows = try read(path).split(whereSeparator: \.isNewline)
    guard let header = rows.first else { return [] }
    let columns = header.split(separator: ",").map {
      $0.trimmingCharacters(in: CharacterSet(charactersIn: "\" ")).lowercased()
    }
    guard let column = columns.firstIndex(where: { ["image", "url", "source"].contains($0) }) else {
      throw DatasetError(
        .invalidRequest, "\(path): the CSV header needs an image, url or source column")
    }
    return rows.dropFirst().compactMap { row in
      let fields = row.split(separator: ",", omittingEmptySubsequences: false)
      guard column < fields.count else { return nil }
      let value = fields[column].trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
      return value.isEmpty ? nil : resolve(value, relativeTo: path)
    }
  }

  static func lines(_ path: String) throws -> [String] {
    try read(path).split(whereSeparator: \.isNewline).map {
      $0.trimmingCharacters(in: .whitespaces)
    }.filter { !$0.isEmpty }.map { resolve($0, relativeTo: path) }
  }
}
