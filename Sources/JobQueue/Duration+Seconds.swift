extension Duration {
  /// The duration in seconds as a Double: how durations are bound to SQL
  /// (`$n::float8 * interval '1 second'`) and used in rates.
  var seconds: Double {
    Double(components.seconds) + Double(components.attoseconds) / 1e18
  }
}
