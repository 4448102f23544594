#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// One libFuzzer binary for every parser that reads untrusted bytes; `TROLLEY_FUZZ_TARGET` picks
/// the parser (one link instead of one per target keeps `Ops/fuzz`'s build short). A thrown
/// error is the parser doing its job; a trap, a sanitizer report, a timeout or an allocation over
/// libFuzzer's limit is a finding.
let selectedTarget: FuzzTarget = {
  let name = getenv("TROLLEY_FUZZ_TARGET").map { String(cString: $0) } ?? ""
  guard let target = FuzzTarget(rawValue: name) else {
    let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
    complain("set TROLLEY_FUZZ_TARGET to one of: \(names)")
    exit(2)
  }
  return target
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
  selectedTarget.run(bytes)
  return 0
}
