import ArgumentParser
import TrolleyBasics
import TrolleyCLIKit
import TrolleyJobContracts

/// Options shared by `enqueue answer` and `enqueue caption`.
struct ImageEnqueueOptions: ParsableArguments {
  @Option(
    help: ArgumentHelp(
      "A folder of images (walked recursively for .jpg, .jpeg, .png, .webp, .gif, .bmp), a "
        + "quoted glob such as 'photos/**/*.jpg', a .jsonl, .csv or .tsv manifest, or a .txt "
        + "list of paths or URLs (one per line).",
      valueName: "dir|glob|manifest"))
  var images: String

  @Option(
    help: ArgumentHelp(
      "Batch to add the jobs to (created if new). Default: the kind and the source's path, so a "
        + "re-run lands in the same batch.", valueName: "name"))
  var batch: String?

  @Option(
    help: ArgumentHelp(
      "Queue to put the jobs in. Default: config queue (default).", valueName: "name"))
  var queue: String?

  @Option(
    help: ArgumentHelp(
      "Priority, lower runs first (-32768...32767). Default: config priority (0).", valueName: "n"))
  var priority: Int?

  @Option(
    help: ArgumentHelp(
      "Attempts before a job goes dead (1...1000). Default: config max_attempts (3).",
      valueName: "n"))
  var maxAttempts: Int?

  @Option(
    help: ArgumentHelp(
      "The manifest column (or JSONL key) with the image path or URL. Default: image, "
        + "image_path, image_url, path, url or file.", valueName: "name"))
  var imageColumn: String?

  @Option(
    help: ArgumentHelp(
      "The manifest column (or JSONL key) with each row's question (answer) or prompt "
        + "(caption). Default: question / prompt.", valueName: "name"))
  var questionColumn: String?

  @Flag(
    help: "Reject the whole manifest if any row is bad (default: skip bad rows and report them).")
  var strict = false

  @Flag(
    help:
      "Do not check that local image files exist (when workers see other files than this machine).")
  var noCheckFiles = false

  @Flag(help: "Print the result as JSON.")
  var json = false

  @Flag(
    help:
      "Read and check everything and count what would be added (with the first rows), changing nothing."
  )
  var dryRun = false

  @OptionGroup var config: ConfigOptions

  @OptionGroup var database: DatabaseOptions

  /// Runs the enqueue for `kind` and prints the report.
  func run(kind: ImageJobKind, text: String?, textFlag: (ConfigurationKey, String)?) async throws {
    var flags: [ConfigurationKey: (flag: String, value: String)] = [:]
    if let queue { flags[.queue] = ("--queue", queue) }
    if let priority { flags[.priority] = ("--priority", String(priority)) }
    if let maxAttempts { flags[.maxAttempts] = ("--max-attempts", String(maxAttempts)) }
    if let textFlag, let text { flags[textFlag.0] = (textFlag.1, text) }
    let context = try OperatorContext(config: config, database: database, flags: flags)
    let configuration = context.configuration
    let defaultText = kind == .caption ? configuration.value(.captionPrompt) : text
    let source = try ManifestSource.detect(images)
    if kind == .answer, text == nil, !source.hasColumns {
      throw CLIError(
        .invalidArgument,
        "--question is required when --images is a folder, a glob or a list of paths (only a "
          + "JSONL, CSV or TSV manifest can give each row its own question). Example: trolley enqueue answer --images \(images) "
          + "--question \"What is in this picture?\"")
    }
    var request = EnqueueRequest(
      source: source, kind: kind, defaultText: defaultText,
      batchName: batch, queue: configuration.value(.queue) ?? "default",
      priority: Int16(try configuration.integer(.priority, in: -32768...32767) ?? 0),
      maxAttempts: Int32(try configuration.integer(.maxAttempts, in: 1...1000) ?? 3),
      strict: strict, checksFiles: !noCheckFiles)
    request.dryRun = dryRun
    request.columns = ManifestColumnChoice(image: imageColumn, question: questionColumn)
    if strict {
      let validation = try EnqueueOperation.validate(request)
      if validation.issues.count > 0 {
        throw CLIError(
          .invalidManifest, EnqueueText.strictRejection(validation.issues, source: request.source))
      }
    }
    // Progress with a rate on a terminal, a line every 10 s in logs: a million-row manifest
    // takes a minute or two. (The total is unknown until the manifest is read, so no ETA.)
    let reporter = ProgressReporter(
      label: request.dryRun ? "checking" : "enqueue", unit: "rows read", total: nil,
      terminal: Terminal.isTerminal(2))
    let store = try context.store()
    let report = try await EnqueueOperation.run(
      request, store: store,
      progress: { progress in
        if case .reading(let rows, _) = progress { reporter.update(Int64(rows)) }
      })
    reporter.finish()
    if json {
      printJSON(EnqueueText.json(report))
    } else {
      print(EnqueueText.summary(report, source: request.source), terminator: "")
    }
    if report.added + report.skipped == 0 {
      throw CLIError(.invalidManifest, EnqueueText.nothingToEnqueue(report, source: request.source))
    }
  }
}
