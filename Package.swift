// swift-tools-version:6.0
// RingTrain: data-parallel CNN training over a TCP ring. See docs/architecture.md for
// why the targets are cut this way; dependencies run strictly top to bottom in the list.
import PackageDescription

/// Code generation for the SIMD hot paths. Without a target CPU, Swift lowers
/// `SIMD16<Float>.addProduct` to scalar `fma` library calls (~100x slower).
/// x86-64-v3 = AVX2 + FMA + BMI2: every x86-64 server of the last decade.
/// Build for a newer CPU with `RINGTRAIN_MARCH=native swift build -c release`
/// (or `znver4`, `sapphirerapids`, ...); see docs/benchmarks.md.
let march = Context.environment["RINGTRAIN_MARCH"] ?? "x86-64-v3"
let simdSettings: [SwiftSetting] = [
    .unsafeFlags(["-Xcc", "-march=\(march)"], .when(platforms: [.linux])),
]

let package = Package(
    name: "RingTrain",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "ringtrain", targets: ["ringtrain"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.0.0"..<"5.0.0"),
    ],
    targets: [
        // System libraries.
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // Image codecs, touched only by ImageCodecs.
        .systemLibrary(name: "CTurboJPEG", pkgConfig: "libturbojpeg", providers: [.apt(["libturbojpeg0-dev"])]),
        .systemLibrary(name: "CSpng", pkgConfig: "spng", providers: [.apt(["libspng-dev"])]),
        .systemLibrary(name: "CWebP", pkgConfig: "libwebp", providers: [.apt(["libwebp-dev"])]),

        // Numerics.
        .target(name: "Tensors", swiftSettings: simdSettings),
        // The AVX-512 GEMM micro-kernel, compiled for x86-64-v4 whatever RINGTRAIN_MARCH says;
        // Kernels calls it only on CPUs that have AVX-512 (KernelISA).
        .target(name: "KernelsAVX512",
                swiftSettings: [.unsafeFlags(["-Xcc", "-march=x86-64-v4", "-Xcc", "-mprefer-vector-width=512"],
                                             .when(platforms: [.linux]))]),
        // Prefetch hints for the micro-kernels (static inline C: Swift has no prefetch), and the
        // atomics of the kernels' thread pool.
        .target(name: "CKernelHints"),
        .target(name: "Kernels", dependencies: ["Tensors", "KernelsAVX512", "CKernelHints"], swiftSettings: simdSettings),
        .target(name: "Layers", dependencies: ["Tensors", "Kernels"], swiftSettings: simdSettings),
        .target(name: "Optim", dependencies: ["Tensors"], swiftSettings: simdSettings),
        // JPEG, PNG and WebP decoding and encoding: the only target that imports the image libraries.
        .target(name: "ImageCodecs", dependencies: ["CTurboJPEG", "CSpng", "CWebP"], swiftSettings: simdSettings),
        // Pixels: resampling (Pillow's algorithm, bit-exact), crops, colour and TrivialAugment
        // operations, image statistics. No dependencies, no Foundation.
        .target(name: "Imaging", swiftSettings: simdSettings),
        .target(name: "Datasets", dependencies: [
            "Tensors", "CZlib", "ImageCodecs", "Imaging",
            .product(name: "Crypto", package: "swift-crypto"),
        ], swiftSettings: simdSettings),

        // Observability files (TensorBoard events, Chrome traces): no dependencies, so the
        // communication threads can record spans too.
        .target(name: "Telemetry"),

        // Communication. CSparsePlanes: the codecs' byte-packing loops, in C for AVX2's lane
        // permutation (its header says why); the only C source of the package.
        .target(name: "CSparsePlanes",
                cSettings: [.unsafeFlags(["-O3", "-march=\(march)"], .when(platforms: [.linux]))]),
        .target(name: "Codecs", dependencies: ["CZstd", "CSparsePlanes"], swiftSettings: simdSettings),
        .target(name: "Collectives", dependencies: ["Codecs", "Telemetry"], swiftSettings: simdSettings),
        .target(name: "Transport", dependencies: [
            "Collectives", "Codecs",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),

        // prctl(2) for the launcher's workers (variadic in C, so not callable from Swift).
        .target(name: "CProcessControl"),

        // Persistence, the training loop, the cluster.
        .target(name: "Checkpoints", dependencies: [
            "Tensors",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "Training", dependencies: [
            "Tensors", "Kernels", "Layers", "Optim", "Datasets", "Collectives", "Codecs", "Checkpoints", "Telemetry",
        ], swiftSettings: simdSettings),
        .target(name: "Cluster", dependencies: [
            "Training", "Optim", "Transport", "Collectives", "Codecs", "Datasets", "Checkpoints", "Telemetry", "CProcessControl",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "Tuning", dependencies: ["Training", "Tensors"]),
        // Models out: ONNX files written with our own protobuf encoder (no protobuf dependency).
        .target(name: "ModelExport", dependencies: ["Layers", "Kernels", "Tensors"]),
        // Reading a run directory back: the HTML report (Foundation only).
        .target(name: "Report"),
        .executableTarget(name: "ringtrain", dependencies: [
            "Cluster", "Tuning", "Report", "Training", "Datasets", "Kernels", "Layers", "Optim", "Tensors", "Codecs", "Collectives",
            "Transport", "Checkpoints", "ModelExport", "ImageCodecs", "Imaging",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: simdSettings),

        // Tests: one target per library target, plus the command line run as a binary.
        .target(name: "TestSupport", dependencies: ["ImageCodecs"], path: "Tests/TestSupport"),
        .testTarget(name: "TensorsTests", dependencies: ["Tensors"]),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels", "Tensors"]),
        .testTarget(name: "LayersTests", dependencies: ["Layers", "Kernels", "Tensors"]),
        .testTarget(name: "OptimTests", dependencies: ["Optim", "Tensors"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "Tensors", "ImageCodecs", "Imaging", "TestSupport"]),
        .testTarget(name: "ImageCodecsTests", dependencies: ["ImageCodecs"]),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging"], exclude: ["Fixtures"]),
        .testTarget(name: "TelemetryTests", dependencies: ["Telemetry"]),
        .testTarget(name: "CodecsTests", dependencies: ["Codecs", "CSparsePlanes"]),
        .testTarget(name: "CollectivesTests", dependencies: ["Collectives", "Codecs", "TestSupport"]),
        .testTarget(name: "TransportTests", dependencies: ["Transport", "Collectives", "Codecs", "TestSupport"]),
        .testTarget(name: "CheckpointsTests", dependencies: ["Checkpoints", "Tensors"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Tensors", "Kernels", "Layers", "Datasets", "Optim", "Checkpoints", "Collectives", "Codecs", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "TuningTests", dependencies: ["Tuning", "Training"]),
        .testTarget(name: "ClusterTests", dependencies: ["Cluster", "Training", "Optim", "Checkpoints", "Transport", "TestSupport"]),
        .testTarget(name: "ReportTests", dependencies: ["Report"]),
        .testTarget(name: "CommandLineTests", dependencies: ["TestSupport", "Datasets"]),
        .testTarget(name: "ModelExportTests", dependencies: ["ModelExport", "Layers", "Tensors", "Datasets"]),
    ],
    // Swift 5 language mode: the hot paths share raw buffers between worker threads under
    // explicit synchronisation, which Swift 6's strict checking cannot express without
    // wrapping every pointer; see docs/architecture.md.
    swiftLanguageModes: [.v5]
)
