import ArgumentParser
import Foundation
import ModelHub
import TrolleyBasics
import TrolleyCLIKit

/// `trolley model fetch`: a checkpoint from the Hugging Face hub, as `huggingface-cli download`
/// would fetch it, so a new user goes from the README to a real model with one command.
struct ModelFetch: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "fetch",
    abstract:
      "Download a TroL checkpoint from the Hugging Face hub (resumable, checksums checked).",
    discussion: """
      Lists the repository's files at the revision, then downloads each through the hub's \
      resolve endpoint: into FILE.incomplete first (an interrupted run resumes where it \
      stopped), checked against the hub's size and, for the weights, SHA-256, then renamed. \
      Honours HF_ENDPOINT (a mirror), HF_TOKEN (private or gated repositories; also \
      $HF_HOME/token from `huggingface-cli login`) and HF_HOME / HF_HUB_CACHE. Without --out \
      the files go into the hub cache (models--ORG--NAME/snapshots/COMMIT), shared with the \
      hub's own tools; with --out into that folder, with .trolley-source.json recording the \
      repository and commit for result provenance.

      Examples:
        trolley model fetch BK-Lee/TroL-1.8B
        trolley model fetch BK-Lee/TroL-3.8B --revision main --out /srv/models/TroL-3.8B
        HF_ENDPOINT=https://hf-mirror.example trolley model fetch BK-Lee/TroL-7B
      """)

  @Argument(help: ArgumentHelp("The hub repository, ORG/NAME.", valueName: "repo"))
  var repository: String

  @Option(help: "A branch, tag or commit.")
  var revision = "main"

  @Option(
    help: ArgumentHelp("Put the files in this folder instead of the hub cache.", valueName: "dir"))
  var out: String?

  func validate() throws {
    guard HubDownloader.isValidRepositoryID(repository) else {
      throw ValidationError(
        "\(repository) is not a repository id; write it as ORG/NAME, e.g. BK-Lee/TroL-1.8B")
    }
  }

  /// The files a TroL checkpoint needs, for the message when the hub cannot be reached.
  static let needed =
    "config.json, model.safetensors, trol_gating.pt and the tokenizer files (tokenizer.model or "
    + "tokenizer.json, tokenizer_config.json, special_tokens_map.json, added_tokens.json)"

  func run() throws {
    let settings = HubSettings.fromEnvironment()
    let hub = HubDownloader(settings: settings)
    let folderName = "models--" + repository.replacingOccurrences(of: "/", with: "--")
    let repo: HubRepository
    do {
      repo = try hub.repository(repository, revision: revision)
    } catch let error as HubError where error.unreachable {
      let place = out ?? "a folder of your choice (then pass it as --model)"
      throw CLIError(
        .io,
        "\(error.message). Without the hub, download the files of \(repository) at \(revision) "
          + "yourself (\(settings.endpoint)/\(repository)/tree/\(revision)): \(Self.needed); "
          + "place them in \(place) and check them with `trolley model inspect DIR`.")
    } catch let error as HubError {
      throw CLIError(.io, error.message)
    }
    let cacheRoot = settings.cache + "/" + folderName
    let destination = out ?? cacheRoot + "/snapshots/" + repo.commit
    let files = repo.files.filter { $0.path != ".gitattributes" }
    let total = files.reduce(Int64(0)) { $0 + ($1.size ?? 0) }
    let reporter = ProgressReporter(
      label: "fetch", unit: "bytes", total: total, terminal: Terminal.isTerminal(2))
    var done: Int64 = 0
    var fetched = 0
    for file in files {
      let target = destination + "/" + file.path
      if let size = file.size, Self.size(of: target) == size, out != nil {
        done += size
        continue  // already complete (checked when it was downloaded)
      }
      let before = done
      do {
        if out == nil {
          try fetchIntoCache(file, repo: repo, hub: hub, root: cacheRoot, snapshot: destination) {
            reporter.update(before + $0)
          }
        } else {
          try hub.download(file, of: repo, to: target) { reporter.update(before + $0) }
        }
      } catch let error as HubError {
        reporter.finish()
        throw CLIError(.io, error.message)
      }
      done += file.size ?? 0
      fetched += 1
    }
    reporter.finish()
    if out == nil {
      try FileManager.default.createDirectory(
        atPath: cacheRoot + "/refs", withIntermediateDirectories: true)
      if revision != repo.commit {
        try Data(repo.commit.utf8).write(
          to: URL(
            fileURLWithPath: cacheRoot + "/refs/"
              + revision.replacingOccurrences(of: "/", with: "_")))
      }
    } else {
      let source = #"{"repo": "\#(repository)", "revision": "\#(repo.commit)"}"# + "\n"
      try Data(source.utf8).write(to: URL(fileURLWithPath: destination + "/.trolley-source.json"))
    }
    print(
      "Fetched \(repository) at \(repo.commit.prefix(12)) into \(destination) (\(files.count) files, "
        + "\(fetched) downloaded, \(Formatting.count(total)) bytes).")
    print("Use it with: trolley worker --model \(destination)")
  }

  /// The hub cache layout: the bytes in blobs/ID, the file a relative link in snapshots/COMMIT.
  func fetchIntoCache(
    _ file: HubFile, repo: HubRepository, hub: HubDownloader, root: String, snapshot: String,
    progress: @escaping (Int64) -> Void
  ) throws {
    let blobName =
      file.sha256 ?? file.blobID ?? repo.commit + "-"
      + file.path.replacingOccurrences(of: "/", with: "_")
    let blob = root + "/blobs/" + blobName
    if let size = file.size, Self.size(of: blob) == size {
      progress(size)
    } else {
      try hub.download(file, of: repo, to: blob, progress: progress)
    }
    let link = snapshot + "/" + file.path
    try FileManager.default.createDirectory(
      atPath: (link as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    let depth = file.path.split(separator: "/").count + 1
    let relative = String(repeating: "../", count: depth) + "blobs/" + blobName
    try? FileManager.default.removeItem(atPath: link)
    try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: relative)
  }

  static func size(of path: String) -> Int64? {
    (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value
  }
}
