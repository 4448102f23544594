import ArgumentParser
import Curation
import Datasets
import Foundation
import TrolleyBasics

/// `trolley dataset filter NAME [...]`: new filter settings, re-applied in SQL.
struct DatasetFilter: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "filter",
    abstract: "Change a dataset's filters and re-apply them to decoded items (no decoding).",
    discussion: """
      Unset options keep the dataset's current value; 0 switches a filter off.

      Examples:
        trolley dataset filter photos --min-side 256 --max-aspect 2.5
        trolley dataset filter photos --formats jpeg,png --max-bytes 0 --json
      """)

  @OptionGroup var dataset: DatasetName
  @Option(help: "Smallest shorter side in pixels (DataComp: 200).")
  var minSide: Int?
  @Option(help: "Largest long/short side ratio (DataComp: 3).")
  var maxAspect: Double?
  @Option(help: "Accepted formats, comma-separated (jpeg,png,webp).")
  var formats: String?
  @Option(help: "Largest file in bytes (64 MiB).")
  var maxBytes: Int?
  @Option(help: "Captions need more than this many words (2).")
  var captionWords: Int?
  @Option(help: "Captions need more than this many characters (5).")
  var captionChars: Int?
  @OptionGroup var options: OperatorOptions

  struct Report: Encodable {
    var dataset: String
    var filters: FilterSettings
    var changed: Int
  }

  func validate() throws {
    for (flag, value) in [
      ("--min-side", minSide), ("--max-bytes", maxBytes), ("--caption-words", captionWords),
      ("--caption-chars", captionChars),
    ] {
      if let value, value < 0 { throw ValidationError("\(flag) must be 0 or more, got \(value)") }
    }
    if let maxAspect, maxAspect < 0 || !maxAspect.isFinite {
      throw ValidationError("--max-aspect must be 0 or more, got \(maxAspect)")
    }
  }

  func run() async throws {
    try await options.withDatasets { store, _ in
      var filters = try await store.datasetGet(name: dataset.name).filters
      if let minSide { filters.minSide = minSide }
      if let maxAspect { filters.maxAspect = maxAspect }
      if let formats {
        filters.formats = formats.split(separator: ",").map {
          $0.trimmingCharacters(in: .whitespaces).lowercased()
        }.filter { !$0.isEmpty }
      }
      if let maxBytes { filters.maxBytes = maxBytes }
      if let captionWords { filters.captionWords = captionWords }
      if let captionChars { filters.captionChars = captionChars }
      let changed = try await store.filterApply(dataset: dataset.name, filters: filters)
      try options.show(Report(dataset: dataset.name, filters: filters, changed: changed)) {
        "\(dataset.name): filters saved, \(changed) items changed verdict"
      }
    }
  }
}
