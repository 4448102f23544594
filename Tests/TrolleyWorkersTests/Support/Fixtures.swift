import Foundation
import TestFixtures

/// Paths to the golden fixtures (`TestFixtures`: the repository's copy, or `$TROLLEY_FIXTURES`).
enum Fixtures {
  static var root: String { TestFixtures.trolTiny }

  static func model(_ family: String) -> String { "\(root)/\(family)/model" }
  static func image(_ family: String) -> String { "\(root)/\(family)/image.png" }
}
