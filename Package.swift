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
#else
  let tensorKernels: [SwiftSetting] = engine
  let wideKernels: [SwiftSetting] = engine
#endif

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
    // System-library shims. Only Postgres imports CLibPQ; only Tensor imports COpenBLAS.
    .systemLibrary(
      name: "CLibPQ", path: "Sources/CLibPQ", providers: [.apt(["libpq-dev"])]),
    .systemLibrary(
      name: "COpenBLAS", path: "Sources/COpenBLAS", providers: [.apt(["libopenblas-dev"])]),
    .systemLibrary(name: "CJPEG", path: "Sources/CJPEG", providers: [.apt(["libjpeg-dev"])]),
    .systemLibrary(name: "CPNG", path: "Sources/CPNG", providers: [.apt(["libpng-dev"])]),
    // libcurl's easy API is variadic, so a small C wrapper does the whole download.
    .target(name: "CCurl", path: "Sources/CCurl", linkerSettings: [.linkedLibrary("curl")]),
    // libjpeg/libpng decoding glue: their error callbacks need setjmp/longjmp, which Swift lacks.
    .target(
      name: "CImageCodecs",
      linkerSettings: [.linkedLibrary("jpeg"), .linkedLibrary("png16")]),

    // Small helpers every layer shares (durations in seconds, CPU clocks, JSON string escaping).
    .target(name: "TrolleyBasics", swiftSettings: strict),
    // Job kind names and each kind's payload and result types: what enqueue writes and the worker
    // reads. Foundation only, so the CLI and the worker share it without sharing anything else.
    .target(name: "TrolleyJobContracts", dependencies: ["TrolleyBasics"], swiftSettings: strict),

    // Database access: connections, typed parameters and rows, COPY, LISTEN/NOTIFY, local clusters.
    .target(
      name: "Postgres",
      dependencies: ["CLibPQ", .product(name: "Logging", package: "swift-log")],
      // COPY encoding and row decoding are per-byte loops: -O makes them 3-5x faster in the debug
      // builds the tests and `trolley bench` use (see docs/benchmarks.md, "Postgres layer").
      swiftSettings: strict + [.unsafeFlags(["-O"])]),
    // Numbered SQL files and the code that applies them in order.
    .target(
      name: "Migrations",
      dependencies: ["Postgres"],
      path: "Migrations",
      resources: [.copy("SQL")],
      swiftSettings: strict),
    // The job queue: enqueue, claim, leases, batches, dependencies, workers registry, retention.
    .target(
      name: "JobQueue",
      dependencies: [
        "Postgres", "TrolleyBasics",
        .product(name: "Logging", package: "swift-log"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
      ],
      swiftSettings: strict),
    // f32 tensors, BLAS-backed products, element-wise kernels, 16-bit and quantized weights.
    .target(
      name: "Tensor", dependencies: ["COpenBLAS", "CProcessor", "TensorAVX512", "TrolleyBasics"],
      swiftSettings: tensorKernels),
    // CPU feature detection and cache hints, which Swift cannot express.
    .target(name: "CProcessor", path: "Sources/CProcessor"),
    // Tensor's AVX-512 kernels, in a module of their own because Swift enables instruction sets
    // per module: Tensor calls them only when `CProcessor` finds AVX-512 at run time.
    .target(name: "TensorAVX512", dependencies: ["CProcessor"], swiftSettings: wideKernels),
    // The TroL model: checkpoints, tokenizers, images, vision, decoders with traversal, generation.
    .target(
      name: "TroL", dependencies: ["Tensor", "CJPEG", "CPNG", "CImageCodecs", "TrolleyBasics"],
      swiftSettings: engine
    ),
    // TroL training: hand-written backward passes per block, AdamW, checkpoints and export.
    // Imports COpenBLAS for its products (sgemm/dgemm over f32/f64 activations and gradients).
    .target(
      name: "Training", dependencies: ["TroL", "Tensor", "COpenBLAS"], swiftSettings: engine),
    // The worker process, its loop (one file per part) and one file per job kind: where the queue
    // meets the engine.
    .target(
      name: "TrolleyWorkers",
      dependencies: [
        "JobQueue", "TroL", "CCurl", "Migrations", "TrolleyBasics", "TrolleyJobContracts",
        "Postgres", "Tensor",
        .product(name: "Logging", package: "swift-log"),
        .product(name: "Metrics", package: "swift-metrics"),
        .product(name: "Prometheus", package: "swift-prometheus"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "UnixSignals", package: "swift-service-lifecycle"),
      ],
      path: "Workers",
      swiftSettings: strict),
    // The operator CLI's library: configuration, manifests, terminal rendering, export formats.
    .target(
      name: "TrolleyCLIKit",
      dependencies: ["JobQueue", "Postgres", "TrolleyBasics", "TrolleyJobContracts"],
      swiftSettings: strict),
    // The operator CLI: one file per subcommand, no SQL and no model code.
    .executableTarget(
      name: "trolley",
      dependencies: [
        "Postgres", "Migrations", "JobQueue", "Tensor", "TroL", "Training", "TrolleyWorkers",
        "TrolleyCLIKit", "TrolleyBasics", "TrolleyJobContracts",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Logging", package: "swift-log"),
      ],
      swiftSettings: strict),

    // Where tests find the golden fixtures (the repository's copy in Tests/Fixtures).
    .target(name: "TestFixtures", path: "Sources/TestFixtures", swiftSettings: strict),
    // Test support shared by several test targets: a fresh migrated database per test.
    .target(
      name: "PostgresTesting", dependencies: ["Postgres", "Migrations", "TrolleyBasics"],
      swiftSettings: strict),

    .testTarget(
      name: "PostgresTests",
      dependencies: ["Postgres", "Migrations", "PostgresTesting", "TrolleyBasics"],
      swiftSettings: strict),
    .testTarget(
      name: "JobQueueTests", dependencies: ["JobQueue", "Postgres", "PostgresTesting"],
      swiftSettings: strict),
    .testTarget(name: "TensorTests", dependencies: ["Tensor"], swiftSettings: strict),
    .testTarget(
      name: "TroLTests", dependencies: ["TroL", "Tensor", "CJPEG", "TestFixtures", "TrolleyBasics"],
      swiftSettings: strict),
    .testTarget(
      name: "TrainingTests", dependencies: ["Training", "TroL", "Tensor", "TestFixtures"],
      swiftSettings: strict),
    .testTarget(
      name: "TrolleyWorkersTests",
      dependencies: [
        "TrolleyWorkers", "JobQueue", "TroL", "PostgresTesting", "TestFixtures",
        "TrolleyJobContracts", "TrolleyBasics",
      ],
      swiftSettings: strict),
    .testTarget(name: "TrolleyCLIKitTests", dependencies: ["TrolleyCLIKit"], swiftSettings: strict),
    .testTarget(
      name: "TrolleyJobContractsTests", dependencies: ["TrolleyJobContracts"],
      swiftSettings: strict),
    // End-to-end tests drive the real `trolley` binary against the real database.
    .testTarget(
      name: "TrolleyEndToEndTests",
      dependencies: [
        "trolley", "Postgres", "Migrations", "PostgresTesting", "JobQueue", "TrolleyCLIKit",
        "TestFixtures", "TroL",
      ],
      swiftSettings: strict),
  ]
)
