import Postgres
import PostgresTesting
import Testing

struct PostgresNotificationTests {
  @Test func deliversNotificationsToAListeningConnection() async throws {
    try await withTestDatabase(migrated: false) { database in
      let listener = try database.connect()
      try listener.listen("jobs available")  // a name that needs quoting
      let sender = try database.connect()
      // Nothing yet: the wait times out empty.
      #expect(try listener.waitForNotifications(timeout: .milliseconds(50)).isEmpty)
      try sender.notify("jobs available", payload: "batch 7")
      try sender.withTransaction { connection in
        try connection.notify("jobs available", payload: "second")
      }
      var received: [PostgresNotification] = []
      while received.count < 2 {
        let batch = try listener.waitForNotifications(timeout: .seconds(10))
        try #require(!batch.isEmpty, "no notification within 10 s")
        received += batch
      }
      #expect(received.map(\.payload) == ["batch 7", "second"])
      #expect(
        received.allSatisfy { $0.channel == "jobs available" && $0.senderPID == sender.backendPID })
      try listener.unlisten("jobs available")
      try sender.notify("jobs available")
      #expect(try listener.waitForNotifications(timeout: .milliseconds(100)).isEmpty)
    }
  }

  @Test func asyncListenerReceivesAndCancels() async throws {
    try await withTestDatabase(migrated: false) { database in
      let listener = PostgresListener(configuration: database.configuration, channels: ["wake"])
      // The first call opens the connection and LISTENs.
      #expect(try await listener.next(timeout: .milliseconds(10)).isEmpty)
      try await database.client.query("SELECT pg_notify($1, $2)", ["wake", "hello"])
      var received: [PostgresNotification] = []
      while received.isEmpty { received = try await listener.next(timeout: .seconds(10)) }
      #expect(received.first?.payload == "hello")

      // Cancellation ends a long wait promptly instead of after the timeout.
      let waiting = Task { try await listener.next(timeout: .seconds(600)) }
      waiting.cancel()
      await #expect(throws: CancellationError.self) { try await waiting.value }
      listener.close()
    }
  }
}
