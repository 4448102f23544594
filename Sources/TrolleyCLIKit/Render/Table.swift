/// A plain text table: a header row and aligned columns, fitted to a width by shrinking the
/// column marked flexible (typically a name or an error message).
public struct Table: Sendable {
  /// One column: its title, alignment, and whether it absorbs the width that is short or spare.
  public struct Column: Sendable {
    public var title: String
    public var alignRight: Bool
    public var flexible: Bool
    public init(_ title: String, alignRight: Bool = false, flexible: Bool = false) {
      self.title = title
      self.alignRight = alignRight
      self.flexible = flexible
    }
  }

  public var columns: [Column]
  public var rows: [[String]] = []

  public init(columns: [Column]) { self.columns = columns }

  /// Adds a row (cells beyond the column count are ignored; missing ones are blank).
  public mutating func append(_ cells: [String]) {
    rows.append(cells.map(DisplayWidth.singleLine))
  }

  /// The table as lines no wider than `width` cells (no limit when nil).
  public func render(width: Int? = nil) -> [String] {
    var widths = columns.map { DisplayWidth.of($0.title) }
    for row in rows {
      for index in columns.indices where index < row.count {
        widths[index] = max(widths[index], DisplayWidth.of(row[index]))
      }
    }
    if let width, let flexible = columns.firstIndex(where: \.flexible) {
      let others = widths.enumerated().filter { $0.offset != flexible }.map(\.element).reduce(0, +)
      let gaps = 2 * (columns.count - 1)
      widths[flexible] = max(
        DisplayWidth.of(columns[flexible].title), min(widths[flexible], width - others - gaps))
    }
    func line(_ cells: [String]) -> String {
      var parts: [String] = []
      for index in columns.indices {
        let cell = index < cells.count ? cells[index] : ""
        let isLast = index == columns.count - 1
        if isLast && !columns[index].alignRight {
          parts.append(DisplayWidth.truncate(cell, to: widths[index]))
        } else {
          parts.append(
            DisplayWidth.fit(cell, to: widths[index], alignRight: columns[index].alignRight))
        }
      }
      let joined = parts.joined(separator: "  ")
      return width.map { DisplayWidth.truncate(joined, to: $0) } ?? joined
    }
    return [line(columns.map(\.title))] + rows.map(line)
  }
}
