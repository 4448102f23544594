extension Duration {
  /// The duration in seconds as a Double: how durations are bound to SQL
  /// (`$n::float8 * interval '1 second'`), reported in metrics and used in rates.
  public var seconds: Double {
    Double(components.seconds) + Double(components.attoseconds) / 1e18
  }

  /// A duration of `seconds` seconds, rounded to the millisecond (how command-line flags given in
  /// seconds become durations).
  public static func seconds(rounding seconds: Double) -> Duration {
    .milliseconds(Int64((seconds * 1000).rounded()))
  }
}
