// swift-tools-version:6.0
import PackageDescription

// Every target builds in Swift 6 mode with the same upcoming features (docs/architecture.md).
let strict: [SwiftSetting] = [
  .enableUpcomingFeature("ExistentialAny"),
  .enableUpcomingFeature("MemberImportVisibility"),
  .enableUpcomingFeature("InternalImportsByDefault"),
]

// The engine's hot loops are unusable without optimization, even in debug builds and tests.
let engine: [SwiftSetting] = strict + [.unsafeFlags(["-O", "-enforce-exclusivity=unchecked"])]

// Tensor's SIMD kernels widen f16 in registers (F16C) and fuse multiply-adds (FMA); without these
// flags LLVM lowers each lane to a libcall. x86-64 only: other architectures have both natively.
#if arch(x86_64)
  let tensorKernels: [SwiftSetting] =
    engine + [.unsafeFlags(["-Xcc", "-mavx2", "-Xcc", "-mfma", "-Xcc", "-mf16c"])]
  // The decode kernels' AVX-512 twins, chosen at run time (`CProcessor`) when the CPU has it.
  let wideKernels: [SwiftSetting] =
    tensorKernels + [.unsafeFlags(["-Xcc", "-mavx512f", "-Xcc", "-mavx512vl"])]
  let curationKernels: [SwiftSetting] = engine + [.unsafeFlags(["-Xcc", "-mavx2"])]
#else
  let curationKernels: [SwiftSetting] = engine
  let tensorKernels: [SwiftSetting] = engine
  let wideKernels: [SwiftSetting] = engine
#endif

// The products several targets use, named once.
let logging: Target.Dependency = .product(name: "Logging", package: "swift-log")
let serviceLifecycle: Target.Dependency = .product(
  name: "ServiceLifecycle", package: "swift-service-lifecycle")

/// A Swift library target (in Sources/`name` unless `path` says otherwise), strict by default.
func module(
  _ name: String, _ dependencies: [Target.Dependency] = [], path: String? = nil,
  resources: [Resource]? = nil, settings: [SwiftSetting] = strict
) -> Target {
  .target(
    name: name, dependencies: dependencies, path: path, resources: resources,
    swiftSettings: settings)
}

/// A test target in Tests/`name`, strict like every target.
func tests(_ name: String, _ dependencies: [Target.Dependency], exclude: [String] = []) -> Target {
  .testTarget(name: name, dependencies: dependencies, exclude: exclude, swiftSettings: strict)
}

let package = Package(
  name: "Trolley",
  platforms: [.macOS(.v15)],
  products: [
    .executable(name: "trolley", targets: ["trolley"])
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
  ],
  targets: [
    // The git commit of the build, generated before each build (Plugins/BuildCommit).
    .plugin(name: "BuildCommit", capability: .buildTool(), path: "Plugins/BuildCommit"),
    // Trolley's version and build commit, for --version, metrics and result provenance.
    .target(
      name: "BuildInfo", path: "Sources/BuildInfo", swiftSettings: strict,
      plugins: ["BuildCommit"]),
    // SHA-256: unique keys, weight content hashes, hub checksums. Optimized even in debug
    // builds: hashing a 4 GB checkpoint unoptimized would take minutes.
    module("Digest", ["CDigest", "CProcessor"], settings: engine),
    // SHA-256 rounds on the x86 SHA extensions, which Swift cannot express; chosen at run time.
    .target(name: "CDigest", path: "Sources/CDigest", cSettings: [.unsafeFlags(["-O3"])]),
    // Downloads checkpoints from the Hugging Face hub (`trolley model fetch`).
    module("ModelHub", ["CCurl", "Digest"]),
    // System-library shims. Only Postgres imports CLibPQ; only Tensor imports COpenBLAS.
    .systemLibrary(
      name: "CLibPQ", path: "Sources/CLibPQ", providers: [.apt(["libpq-dev"])]),
    .systemLibrary(
      name: "COpenBLAS", path: "Sources/COpenBLAS", providers: [.apt(["libopenblas-dev"])]),
    .systemLibrary(name: "CJPEG", path: "Sources/CJPEG", providers: [.apt(["libjpeg-dev"])]),
    .systemLibrary(name: "CPNG", path: "Sources/CPNG", providers: [.apt(["libpng-dev"])]),
    // libcurl's easy API is variadic, so a small C wrapper does the whole download.
    .target(name: "CCurl", path: "Sources/CCurl", linkerSettings: [.linkedLibrary("curl")]),
    // Image decoding glue: libjpeg/libpng (their error callbacks need setjmp/longjmp, which Swift
    // lacks), libwebp with libwebpdemux (first frame), giflib (first frame), and a BMP reader.
    .target(
      name: "CImageCodecs",
      linkerSettings: [
        .linkedLibrary("jpeg"), .linkedLibrary("png16"), .linkedLibrary("webp"),
        .linkedLibrary("webpdemux"), .linkedLibrary("gif"),
      ]),

    // Small helpers every layer shares (durations in seconds, CPU clocks, JSON string escaping).
    module("TrolleyBasics"),
    // Job kind names and each kind's payload and result types: what enqueue writes and the worker
    // reads. Foundation only, so the CLI and the worker share it without sharing anything else.
    module("TrolleyJobContracts", ["TrolleyBasics"]),

    // Database access: connections, typed parameters and rows, COPY, LISTEN/NOTIFY, local clusters.
    // COPY encoding and row decoding are per-byte loops: -O makes them 3-5x faster in the debug
    // builds the tests and `trolley bench` use (see docs/benchmarks.md, "Postgres layer").
    module("Postgres", ["CLibPQ", logging], settings: strict + [.unsafeFlags(["-O"])]),
    // Numbered SQL files and the code that applies them in order.
    module("Migrations", ["Postgres"], path: "Migrations", resources: [.copy("SQL")]),
    // The job queue: enqueue, claim, leases, batches, dependencies, workers registry, retention.
    module("JobQueue", ["Postgres", "TrolleyBasics", logging, serviceLifecycle]),
    // f32 tensors, BLAS-backed products, element-wise kernels, 16-bit and quantized weights.
    module(
      "Tensor", ["COpenBLAS", "CProcessor", "CKernels", "TensorAVX512", "TrolleyBasics"],
      settings: tensorKernels),
    // The reduced-precision prefill kernels (`--compute int8|bf16`), in C for instructions Swift
    // cannot express; each instruction set's function is compiled for it by a target attribute
    // and chosen at run time (`CProcessor`).
    .target(name: "CKernels", path: "Sources/CKernels", cSettings: [.unsafeFlags(["-O3"])]),
    // CPU feature detection and cache hints, which Swift cannot express.
    .target(name: "CProcessor", path: "Sources/CProcessor"),
    // Tensor's AVX-512 kernels, in a module of their own because Swift enables instruction sets
    // per module: Tensor calls them only when `CProcessor` finds AVX-512 at run time.
    module("TensorAVX512", ["CProcessor"], settings: wideKernels),
    // The TroL model: checkpoints, tokenizers, images, vision, decoders with traversal, generation.
    module("TroL", ["Tensor", "CJPEG", "CPNG", "CImageCodecs", "TrolleyBasics"], settings: engine),
    // Dataset curation without the queue: Pillow-exact grey and LANCZOS, the four imagehash
    // hashes, filters, multi-index bands, union-find. Optimised like the engine because ingest
    // hashes every image (and the tests hash thousands).
    // AVX2 (no FMA: the hashes' floating point must round exactly as imagehash's) lets the
    // LANCZOS passes widen and multiply eight pixels at a time.
    module("Curation", ["TroL", "CJPEG", "Digest", "TrolleyBasics"], settings: curationKernels),
    // Curation's PostgreSQL side: datasets, items, band and edge tables, and the planner that
    // enqueues curate.* jobs. Every curation statement lives here. Optimized: the dedupe's pairs
    // step streams millions of band rows through it.
    module(
      "Datasets",
      ["Curation", "Postgres", "JobQueue", "TrolleyJobContracts", "Digest", "TrolleyBasics"],
      settings: engine),
    // Tooling, not product: random-weight checkpoints in the released layout (written through
    // TroL's SafeTensorsWriter), generated tokenizers, sample images and their PNG and JPEG encoders.
    // Optimized like the engine: it generates billions of random weights for the big shapes.
    module("TroLSynthesis", ["TroL", "CJPEG", "TrolleyBasics"], settings: engine),
    // TroL training: hand-written backward passes per block, AdamW, checkpoints and export.
    // Imports COpenBLAS for its products (sgemm/dgemm over f32/f64 activations and gradients).
    module("Training", ["TroL", "Tensor", "COpenBLAS", "TrolleyBasics"], settings: engine),
    // The worker process, its loop (one file per part) and one file per job kind: where the queue
    // meets the engine.
    module(
      "TrolleyWorkers",
      [
        "JobQueue", "TroL", "CCurl", "TrolleyBasics", "TrolleyJobContracts", "Postgres", "Tensor",
        "BuildInfo", "Digest", "Curation", "Datasets", "Training", logging, serviceLifecycle,
        .product(name: "Metrics", package: "swift-metrics"),
        .product(name: "Prometheus", package: "swift-prometheus"),
        .product(name: "UnixSignals", package: "swift-service-lifecycle"),
      ],
      path: "Workers"),
    // Tooling, not product: `trolley bench engine|queue|worker` (the queue's baseline SQL is
    // private here), like river's riverbench.
    module(
      "TrolleyBench",
      [
        "TrolleyWorkers", "JobQueue", "Postgres", "Migrations", "TroL", "TroLSynthesis", "Tensor",
        "Training", "TrolleyBasics", "TrolleyJobContracts", "Curation", "Datasets", logging,
      ]),
    // The operator CLI's library: configuration, manifests, terminal rendering, export formats.
    module(
      "TrolleyCLIKit", ["JobQueue", "Postgres", "TrolleyBasics", "TrolleyJobContracts", "Digest"]),
    // The operator CLI: one file per subcommand, no SQL and no model code.
    .executableTarget(
      name: "trolley",
      dependencies: [
        "Postgres", "Migrations", "JobQueue", "Tensor", "TroL", "TroLSynthesis", "TrolleyWorkers",
        "TrolleyBench", "TrolleyCLIKit", "TrolleyBasics", "TrolleyJobContracts", "BuildInfo",
        "Digest", "ModelHub", "Curation", "Datasets", "Training", logging,
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      swiftSettings: strict),

    // Where tests find the golden fixtures (the repository's copy in Tests/Fixtures).
    module("TestFixtures"),
    // Test support shared by several test targets: a fresh migrated database per test.
    module("PostgresTesting", ["Postgres", "Migrations", "TrolleyBasics"]),

    tests("PostgresTests", ["Postgres", "Migrations", "PostgresTesting", "TrolleyBasics"]),
    tests("JobQueueTests", ["JobQueue", "Postgres", "PostgresTesting", "TrolleyBasics"]),
    tests("TensorTests", ["Tensor", "TrolleyBasics"]),
    tests("TroLTests", ["TroL", "Tensor", "TroLSynthesis", "TestFixtures", "TrolleyBasics"]),
    tests("TrainingTests", ["Training", "TroL", "Tensor", "TestFixtures", "TrolleyBasics"]),
    tests(
      "TroLSynthesisTests", ["TroLSynthesis", "TroL", "Tensor", "TestFixtures", "TrolleyBasics"]),
    tests(
      "TrolleyWorkersTests",
      [
        "TrolleyWorkers", "JobQueue", "TroL", "PostgresTesting", "TestFixtures",
        "TrolleyJobContracts", "TrolleyBasics",
      ]),
    tests(
      "CurationTests",
      [
        "Curation", "Datasets", "TroL", "TestFixtures", "PostgresTesting", "JobQueue", "Postgres",
        "TrolleyWorkers", "Digest", "TrolleyJobContracts", "TroLSynthesis", "TrolleyBasics",
      ], exclude: ["Oracle"]),
    tests("TrolleyCLIKitTests", ["TrolleyCLIKit", "Digest", "TrolleyBasics", "TestFixtures"]),
    tests("DigestTests", ["Digest", "TrolleyBasics"]),
    tests("TrolleyJobContractsTests", ["TrolleyJobContracts"]),
    // End-to-end tests drive the real `trolley` binary against the real database.
    tests(
      "TrolleyEndToEndTests",
      [
        "trolley", "Postgres", "Migrations", "PostgresTesting", "JobQueue", "TrolleyCLIKit",
        "TestFixtures", "TroL", "TroLSynthesis", "TrolleyBasics",
      ]),
  ]
)

// Coverage-guided fuzzing (docs/reliability.md, "Fuzzing"). Only `Ops/fuzz` sets TROLLEY_FUZZ and
// builds this target, with `--sanitize fuzzer --sanitize address` into a scratch directory of its
// own, so the normal build and CI never compile it.
if Context.environment["TROLLEY_FUZZ"] != nil {
  package.targets.append(
    .executableTarget(
      name: "trolley-fuzz",
      dependencies: ["TroL", "TrolleyCLIKit", "TrolleyJobContracts"],
      path: "Fuzz/Targets",
      swiftSettings: strict))
}
