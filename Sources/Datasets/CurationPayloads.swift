public import TrolleyJobContracts

/// The curate.* kinds' names and payloads, from the shared job contracts.
public enum CurationKindNames {
  public static let ingest = CurateIngestContract.name
  public static let dedupe = CurateDedupeContract.name
}

public typealias IngestPayload = CurateIngestContract.Payload
public typealias DedupePayload = CurateDedupeContract.Payload
