import ArgumentParser
import Foundation
import Tensor
import TroL

/// Comma-separated lists of traversal and compute modes, as the benchmarks that compare modes
/// take them (`bench engine --traversal`, `bench quality --traversal --compute`).
enum ModeLists {
  /// "all,question,off" → the modes, nil when one is unknown or the list is empty.
  static func traversals(_ text: String) -> [TraversalMode]? {
    parse(text, TraversalMode.init(rawValue:))
  }

  /// "f32,bf16,int8" → the modes, nil when one is unknown or the list is empty.
  static func computes(_ text: String) -> [ComputeMode]? {
    parse(text, ComputeMode.init(rawValue:))
  }

  /// The error for a bad --traversal list.
  static func traversalError(_ text: String) -> ValidationError {
    ValidationError(
      "--traversal must be all, question or off, or several separated by commas (e.g. all,question,off), got '\(text)'"
    )
  }

  /// The error for a bad --compute list.
  static func computeError(_ text: String) -> ValidationError {
    ValidationError(
      "--compute must be f32, bf16 or int8, or several separated by commas (e.g. f32,bf16,int8), got '\(text)'"
    )
  }

  private static func parse<Mode>(_ text: String, _ make: (String) -> Mode?) -> [Mode]? {
    let names = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    let modes = names.compactMap(make)
    return modes.count == names.count && !modes.isEmpty ? modes : nil
  }
}
