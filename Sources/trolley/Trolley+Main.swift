import ArgumentParser
import Foundation
import JobQueue
import Postgres
import TrolleyBasics
import TrolleyCLIKit

extension Trolley {
  /// Runs the command line with Trolley's exit codes: 0 ok, 1 failure, 2 usage error.
  ///
  /// ArgumentParser exits 64 (EX_USAGE) for bad usage; operators' scripts expect 2, as from
  /// most Unix tools. Errors print as "error: <what was wrong and what to do>" on stderr.
  static func main() async {
    do {
      var command = try parseAsRoot()
      if var asyncCommand = command as? any AsyncParsableCommand {
        try await asyncCommand.run()
      } else {
        try command.run()
      }
    } catch let error as CLIError {
      printError("error: \(error.message)")
      Foundation.exit(error.code == .invalidArgument ? 2 : 1)
    } catch let error as PostgresError where error.sqlState == "42P01" || error.sqlState == "42704"
    {
      // undefined_table / undefined_object: the database exists but has no Trolley schema yet.
      printError(
        "error: the database has no Trolley tables yet (\(error.serverMessage ?? "undefined table")). "
          + "Create them with: trolley migrate")
      Foundation.exit(1)
    } catch let error as JobQueueError where error.code == .invalidRequest {
      printError("error: \(error.message)")
      Foundation.exit(2)
    } catch {
      let code = exitCode(for: error)
      if code == .success {
        exit(withError: error)
      }
      if code == .validationFailure {
        printError(fullMessage(for: error))
        Foundation.exit(2)
      }
      if error is ExitCode {
        Foundation.exit(code.rawValue)
      }
      printError("error: \(error)")
      Foundation.exit(1)
    }
  }
}
