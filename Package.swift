// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "DNLS",
    products: [
        .library(name: "DNLS", targets: ["DNLS"]),
        .executable(name: "dnls", targets: ["dnls"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // The library: public API, geometry, and the backends. No third-party dependencies.
        // C types of the few CUDA driver and NVRTC entry points we call (no toolkit needed to build).
        .target(name: "CCUDA"),
        // dlopen of the driver and NVRTC at run time, contexts, buffers, kernels. Knows nothing of patches.
        .target(name: "CUDADriver", dependencies: ["CCUDA"]),
        .target(name: "DNLS", dependencies: ["CUDADriver"]),
        // The conformance suite: every backend against the CPU reference; run by `swift test` and `dnls selftest`.
        .target(name: "DNLSConformance", dependencies: ["DNLS"]),
        // The command-line tool: benchmarks today, denoising and self-tests later.
        .executableTarget(
            name: "dnls",
            dependencies: [
                "DNLS",
                "DNLSConformance",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "DNLSTests", dependencies: ["DNLS", "DNLSConformance", "CUDADriver", "CCUDA"]),
        .testTarget(name: "DNLSToolTests", dependencies: ["dnls", "DNLS"]),
        .testTarget(name: "CUDADriverTests", dependencies: ["CUDADriver", "CCUDA"]),
    ],
    swiftLanguageModes: [.v6]
)
