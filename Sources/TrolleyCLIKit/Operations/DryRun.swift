public import JobQueue
public import TrolleyJobContracts

/// What an action would touch, shown by `--dry-run` instead of doing it: how many jobs, by state,
/// and the first few, so an operator can check a filter before acting on a million jobs.
public struct DryRunPreview: Sendable {
  /// Jobs the action would act on.
  public var matched: Int = 0
  /// Of those, how many are in each state (states in `JobState.allCases` order, zeros left out).
  public var byState: [(state: JobState, count: Int)] = []
  /// One sampled job.
  public struct Job: Sendable, Equatable {
    public var id: Int64
    public var state: JobState
    public var kind: String
    public var lastError: String?
  }

  /// The first jobs, in id order (at most `sampleSize`).
  public var sample: [Job] = []

  public static let sampleSize = 5

  mutating func add(_ jobs: [Job]) {
    matched += jobs.count
    for job in jobs {
      if let index = byState.firstIndex(where: { $0.state == job.state }) {
        byState[index].count += 1
      } else {
        byState.append((job.state, 1))
        byState.sort { lhs, rhs in
          (JobState.allCases.firstIndex(of: lhs.state) ?? 0)
            < (JobState.allCases.firstIndex(of: rhs.state) ?? 0)
        }
      }
    }
    if sample.count < Self.sampleSize { sample += jobs.prefix(Self.sampleSize - sample.count) }
  }

  /// "Dry run: would retry 1,204 jobs (dead 1,204). First 5: ..." and one line per sampled job.
  public func text(verb: String) -> String {
    var out =
      "Dry run: would \(verb) \(Formatting.count(Int64(matched))) job\(matched == 1 ? "" : "s")"
    if !byState.isEmpty {
      out +=
        " ("
        + byState.map { "\($0.state.rawValue) \(Formatting.count(Int64($0.count)))" }
        .joined(separator: ", ") + ")"
    }
    out += ". Nothing was changed.\n"
    if !sample.isEmpty {
      out += "First \(sample.count):\n"
      for job in sample {
        var line = "  \(job.id)  \(job.state.rawValue)  \(job.kind)"
        if let error = job.lastError, !error.isEmpty {
          line += "  " + DisplayWidth.truncate(DisplayWidth.singleLine(error), to: 60)
        }
        out += line + "\n"
      }
    }
    return out
  }

  /// `{"dry_run": true, "matched": N, "by_state": {...}, "sample": [ids]}`.
  public func json() -> JSONValue {
    .object([
      .init("dry_run", .bool(true)),
      .init("matched", .number(String(matched))),
      .init(
        "by_state", .object(byState.map { .init($0.state.rawValue, .number(String($0.count))) })),
      .init("sample", .array(sample.map { .number(String($0.id)) })),
    ])
  }
}

extension JobOperations {
  /// The jobs `retry` (dead ones) or `cancel` (unfinished ones) would act on, read without
  /// changing anything.
  /// - Parameter states: The states the action applies to.
  public static func preview(
    _ filter: JobFilter, ids: [Int64], states: [JobState], store: JobStore
  ) async throws -> DryRunPreview {
    var preview = DryRunPreview()
    if !ids.isEmpty {
      for id in ids {
        guard let job = try await store.jobGet(id: id), states.contains(job.state) else { continue }
        preview.add([
          DryRunPreview.Job(id: job.id, state: job.state, kind: job.kind, lastError: job.lastError)
        ])
      }
      return preview
    }
    var params = try await params(filter, store: store)
    params.states = (filter.states ?? states).filter(states.contains)
    guard params.states?.isEmpty == false else { return preview }
    params.limit = chunk
    while true {
      let jobs = try await store.jobList(params)
      guard let last = jobs.last else { break }
      preview.add(
        jobs.map {
          DryRunPreview.Job(id: $0.id, state: $0.state, kind: $0.kind, lastError: $0.lastError)
        })
      params.afterID = last.id
    }
    return preview
  }
}
