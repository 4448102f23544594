import ArgumentParser
import Foundation

/// Parsers for options that take a comma-separated list (`--batch-sizes 1,4`, `--formats f16,q8`),
/// so that every such option accepts the same spelling (spaces around items allowed) and says the
/// same thing when it is wrong.
enum CommaSeparated {
  /// Whole numbers within `range` (and multiples of `step`), at least one.
  ///
  /// - Throws: `ValidationError` naming `option`, the accepted values and what was given.
  static func integers(
    _ text: String, option: String, in range: ClosedRange<Int>, step: Int = 1
  ) throws -> [Int] {
    let values = items(text).map { Int($0) }
    guard !values.isEmpty,
      values.allSatisfy({ value in value.map { range.contains($0) && $0 % step == 0 } ?? false })
    else {
      let what = step == 1 ? "whole numbers" : "multiples of \(step)"
      throw ValidationError(
        "\(option) takes \(what) from \(range.lowerBound) to \(range.upperBound) separated by "
          + "commas, like \(range.lowerBound),\(range.lowerBound + step); got \"\(text)\"")
    }
    return values.compactMap { $0 }
  }

  /// Raw values of `Value`, at least one.
  ///
  /// - Throws: `ValidationError` naming `option`, the item that is not one of `Value`'s cases,
  ///   and the cases.
  static func values<Value: RawRepresentable & CaseIterable>(
    _ text: String, option: String, as type: Value.Type = Value.self
  ) throws -> [Value] where Value.RawValue == String {
    let values = try items(text).map { item in
      guard let value = Value(rawValue: item) else {
        let choices = Value.allCases.map(\.rawValue).joined(separator: ", ")
        throw ValidationError("\(option): '\(item)' is not one of \(choices)")
      }
      return value
    }
    guard !values.isEmpty else { throw ValidationError("\(option) needs at least one value") }
    return values
  }

  /// The items of `text`, trimmed; none for blank text.
  private static func items(_ text: String) -> [String] {
    text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
  }
}
