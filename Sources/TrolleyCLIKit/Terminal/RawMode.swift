public import TrolleyBasics

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The saved terminal state, global so that a signal handler can restore it.
nonisolated(unsafe) private var savedAttributes = termios()
nonisolated(unsafe) private var savedDescriptor: Int32 = -1

/// Leaves the alternate screen and shows the cursor again (what every exit path must write).
private let leaveScreen = "\u{1B}[?25h\u{1B}[?1049l"

/// Restores the terminal from a signal handler: only async-signal-safe calls (tcsetattr, write).
private func restoreFromSignal(_ signal: Int32) {
  if savedDescriptor >= 0 {
    tcsetattr(savedDescriptor, TCSANOW, &savedAttributes)
    leaveScreen.utf8CString.withUnsafeBufferPointer { text in
      _ = systemWrite(STDOUT_FILENO, text.baseAddress!, text.count - 1)
    }
  }
  _exit(128 + signal)
}

/// A full-screen session: raw keyboard input (no echo, no line editing, Ctrl-C read as a key),
/// the alternate screen and a hidden cursor. `restore()` undoes all of it; so do SIGTERM, SIGHUP
/// and SIGQUIT, so the operator's shell is never left broken.
public final class RawMode {
  private let input: Int32
  private var active = false

  /// Enters raw mode on `input` (standard input by default) and switches to the alternate screen.
  /// - Throws: `CLIError.invalidArgument` if `input` is not a terminal.
  public init(input: Int32 = 0) throws(CLIError) {
    self.input = input
    var attributes = termios()
    guard isatty(input) == 1, tcgetattr(input, &attributes) == 0 else {
      throw CLIError(
        .invalidArgument,
        "trolley top needs a terminal. Run it in a terminal window, or use "
          + "'trolley batches' and 'trolley batch show ID' in scripts.")
    }
    savedAttributes = attributes
    savedDescriptor = input
    for signalNumber in [SIGTERM, SIGHUP, SIGQUIT] {
      signal(signalNumber) { restoreFromSignal($0) }
    }
    attributes.c_lflag &= ~tcflag_t(ECHO | ICANON | ISIG | IEXTEN)
    attributes.c_iflag &= ~tcflag_t(IXON | ICRNL)
    withUnsafeMutableBytes(of: &attributes.c_cc) { cc in
      cc[Int(VMIN)] = 0
      cc[Int(VTIME)] = 0
    }
    tcsetattr(input, TCSANOW, &attributes)
    Terminal.write("\u{1B}[?1049h\u{1B}[?25l\u{1B}[H\u{1B}[2J")
    active = true
  }

  deinit { restore() }

  /// Restores the terminal as it was. Safe to call more than once.
  public func restore() {
    guard active else { return }
    active = false
    tcsetattr(input, TCSANOW, &savedAttributes)
    Terminal.write(leaveScreen)
    savedDescriptor = -1
    for signalNumber in [SIGTERM, SIGHUP, SIGQUIT] { signal(signalNumber, SIG_DFL) }
  }

  /// Waits up to `timeout` seconds for a key and returns the bytes read (empty on timeout).
  public func readKeys(timeout: Double) -> [UInt8] {
    var descriptor = pollfd(fd: input, events: Int16(POLLIN), revents: 0)
    let ready = poll(&descriptor, 1, Int32(max(0, timeout * 1000)))
    guard ready > 0 else { return [] }
    var bytes = [UInt8](repeating: 0, count: 64)
    let count = read(input, &bytes, bytes.count)
    return count > 0 ? Array(bytes[..<count]) : []
  }

  /// True if `keys` ask to quit: `q`, `Q`, Ctrl-C, Ctrl-D or Escape alone.
  public static func isQuit(_ keys: [UInt8]) -> Bool {
    if keys == [0x1B] { return true }
    return keys.contains {
      $0 == UInt8(ascii: "q") || $0 == UInt8(ascii: "Q") || $0 == 3 || $0 == 4
    }
  }
}
