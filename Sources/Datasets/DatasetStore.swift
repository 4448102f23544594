public import Postgres
public import TrolleyBasics

/// Every statement curation runs against PostgreSQL, one file per concern (`+Datasets`,
/// `+Items`, `+Filter`, `+Dedupe`, `+Progress`), each SQL text in a `static let` above the method
/// that runs it, always parameterized. Job kinds and CLI operations call it; they hold no SQL.
public struct DatasetStore: Sendable {
  public let client: PostgresClient

  public init(client: PostgresClient) {
    self.client = client
  }

  func withConnection<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T)
    async throws -> T
  {
    try await client.withConnection { connection in try body(connection) }
  }
}

/// A curation failure with a message that says what to do.
public typealias DatasetError = CodedError<DatasetErrorCode>

/// What went wrong in curation (`DatasetError.Code`).
public enum DatasetErrorCode: String, ErrorCode {
  case notFound, alreadyExists, invalidRequest
}
