// swift-tools-version:6.2
import PackageDescription

// One target per concern, dependencies flowing one way (see README "Layout"):
// CJPEG/CBLAS/COpenSSL/CKernels/CEpoll (C) → Imaging / Inference / HTTP → Telemetry → Service → seresnet (executable).

/// The engine's Swift side drives hot loops over raw buffers: full optimization even in debug builds so `swift test`
/// stays fast, and without exclusivity checks in the inner loops. It reads only the operator's own checkpoint.
let hotLoops: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked"])
]

let package = Package(
    name: "seresnet",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "seresnet", targets: ["seresnet"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.1.0"),
    ],
    targets: [
        .target(
            name: "CJPEG",
            linkerSettings: [.linkedLibrary("jpeg")]
        ),
        .systemLibrary(name: "CBLAS"),
        // The engine's AVX2/AVX-512 kernels. Each function carries its own target attribute and the engine picks
        // one at run time, so no -march flag: the binary runs on any x86-64 CPU. -O3 in debug builds too, so
        // `swift test` runs them at full speed.
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O3"])]),
        // OpenSSL: libcrypto's SHA-256 for weights, libssl for HTTPS (a C shim: some entry points are macros).
        .target(name: "COpenSSL", linkerSettings: [.linkedLibrary("ssl"), .linkedLibrary("crypto")]),

        // epoll for the HTTP event loop (Glibc's Swift module does not export it).
        .target(name: "CEpoll"),

        // The HTTP target parses hostile bytes: bounds and overflow checks stay on (-O, as the fuzzers build it).
        .target(name: "HTTP", dependencies: ["COpenSSL", "CEpoll"]),
        // Imaging parses hostile bytes too (EXIF): -O keeps bounds and overflow checks (as the fuzzer builds it), and
        // debug builds get it too so `swift test` resamples large photos at full speed.
        .target(name: "Imaging", dependencies: ["CJPEG"], swiftSettings: [.unsafeFlags(["-O"])]),
        .target(name: "Inference", dependencies: ["CBLAS", "COpenSSL", "CKernels"], swiftSettings: hotLoops),
        // OpenTelemetry traces: W3C Trace Context, samplers, OTLP/HTTP protobuf export off the request path.
        .target(name: "Telemetry", dependencies: ["HTTP"]),
        .target(
            name: "Service",
            dependencies: [
                "HTTP", "Imaging", "Inference", "Telemetry",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            // The OpenAPI document and the web page, embedded in the binary (still one file to ship).
            resources: [.embedInCode("Resources/openapi.json"), .embedInCode("Resources/index.html")]
        ),
        .executableTarget(
            name: "seresnet",
            dependencies: [
                "Service", "Inference", "Imaging", "HTTP", "Telemetry",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        .executableTarget(name: "http-bench-server", dependencies: ["HTTP"], path: "Benchmarks/HTTPBenchServer"),

        // The one way tests find their data (Tests/Fixtures).
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "HTTPTests", dependencies: ["HTTP"]),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging", "TestSupport"]),
        .testTarget(name: "InferenceTests", dependencies: ["Inference", "CBLAS", "CKernels", "TestSupport"]),
        .testTarget(name: "ServiceTests", dependencies: ["Service", "HTTP", "Imaging", "Inference", "TestSupport"]),
        .testTarget(name: "TelemetryTests", dependencies: ["Telemetry"]),
    ],
    swiftLanguageModes: [.v5]
)
