/// A horizontal bar showing a fraction, exactly `width` cells wide.
public enum ProgressBar {
  private static let eighths = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"]

  /// - Parameters:
  ///   - fraction: From 0 to 1 (clamped; NaN counts as 0).
  ///   - width: Cells, including the brackets of the ASCII form.
  ///   - unicode: Block characters with eighth steps on terminals; `[###---]` otherwise.
  public static func render(fraction: Double, width: Int, unicode: Bool) -> String {
    let clamped = fraction.isNaN ? 0 : min(1, max(0, fraction))
    if unicode {
      guard width > 0 else { return "" }
      let totalEighths = Int((clamped * Double(width * 8)).rounded(.down))
      let full = totalEighths / 8
      let partial = totalEighths % 8
      var bar = String(repeating: "█", count: full)
      if full < width {
        bar += partial > 0 ? eighths[partial] : "░"
        bar += String(repeating: "░", count: width - full - 1)
      }
      return bar
    }
    let inner = max(0, width - 2)
    let filled = Int((clamped * Double(inner)).rounded(.down))
    return "[" + String(repeating: "#", count: filled)
      + String(repeating: "-", count: inner - filled)
      + "]"
  }
}
