import Foundation
import TroL
import TrolleyCLIKit
import TrolleyJobContracts

/// At most this many entries are read per input: a reader that never reaches the end is a
/// finding of libFuzzer's timeout, not of this loop.
private let maximumEntries = 10_000

func fuzzManifest(_ bytes: [UInt8]) {
  guard let selector = bytes.first else { return }
  let names = ["manifest.jsonl", "manifest.csv", "manifest.tsv", "manifest.txt"]
  let name = names[Int(selector) % names.count]
  let path = ScratchFile.write(Array(bytes.dropFirst()), named: name)
  defer { ScratchFile.remove(named: name) }
  let columns: ManifestColumnChoice =
    selector & 0x80 == 0 ? .standard : ManifestColumnChoice(image: "url", question: "prompt")
  guard let source = try? ManifestSource.detect(path),
    let reader = try? source.open(columns: columns)
  else { return }
  for _ in 0..<maximumEntries {
    guard let entry = try? reader.next() else { return }
    _ = entry
  }
}

func fuzzPayload(_ bytes: [UInt8]) {
  guard let selector = bytes.first else { return }
  let json = Data(bytes.dropFirst())
  switch selector % 10 {
  case 0: _ = try? TrolAnswer.decodePayload(json)
  case 1: _ = try? TrolCaption.decodePayload(json)
  case 2: _ = try? CurateIngestContract.decodePayload(json)
  case 3: _ = try? CurateDedupeContract.decodePayload(json)
  case 4: _ = try? TrainShard.decodePayload(json)
  case 5: _ = try? TrainMerge.decodePayload(json)
  case 6: _ = try? SleepContract.decodePayload(json)
  case 7: _ = try? FailContract.decodePayload(json)
  case 8: _ = try? CrashContract.decodePayload(json)
  default: _ = try? JSONDecoder().decode(JobJSON.self, from: json)
  }
}

func fuzzConfig(_ bytes: [UInt8]) {
  guard let selector = bytes.first else { return }
  let rest = Array(bytes.dropFirst())
  switch selector % 3 {
  case 0: _ = try? ModelConfig(json: rest, source: "config.json")
  case 1:
    _ = try? ConfigurationFile(
      path: "trolley.toml", contents: String(decoding: rest, as: UTF8.self))
  default: _ = try? JSONParser.parse(String(decoding: rest, as: UTF8.self))
  }
}
