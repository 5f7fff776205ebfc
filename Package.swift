// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "DNLS",
    products: [
        .library(name: "DNLS", targets: ["DNLS"]),
        .executable(name: "dnls", targets: ["dnls"]),
        // The C ABI as a shared library (libDNLSC.so) for other languages: the Python package loads it.
        .library(name: "DNLSC", type: .dynamic, targets: ["DNLSC"]),
        // Swift's differentiable programming over the operations: `gradient(at:of:)` through a search or a fold.
        .library(name: "DNLSDifferentiation", targets: ["DNLSDifferentiation"]),
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
        // The parameter structs of the CUDA kernels, one header that Swift imports and NVRTC compiles.
        .target(name: "CDNLSKernels"),
        .target(name: "DNLS", dependencies: ["CUDADriver", "CDNLSKernels"]),
        // `Tensor: Differentiable`, differentiable tensor math, and validated ("prepared") forms of
        // the operations with registered derivatives. Uses the experimental _Differentiation module.
        .target(name: "DNLSDifferentiation", dependencies: ["DNLS"]),
        // The C types of the C ABI (DLPack-layout tensor descriptors, parameters, per-call settings).
        .target(name: "CDNLSABI"),
        // The C ABI: one @c function per operation and direction over the public API. Its function
        // declarations are generated into include/dnls.h on every build of the target.
        .target(
            name: "DNLSC",
            dependencies: ["DNLS", "CDNLSABI"],
            swiftSettings: [.unsafeFlags(["-emit-clang-header-path", "include/dnls.h"])],
            linkerSettings: [.unsafeFlags(["-Xlinker", "--version-script=Sources/DNLSC/exports.map", "-Xlinker", "--gc-sections"])]
        ),
        // Seeded random tensors, the tolerance rule and the top-K comparison, shared by the tests and
        // the conformance suite.
        .target(name: "DNLSTestSupport", dependencies: ["DNLS"]),
        // The conformance suite: every backend against the CPU reference; run by `swift test` and `dnls selftest`.
        .target(name: "DNLSConformance", dependencies: ["DNLS", "DNLSDifferentiation", "DNLSTestSupport"]),
        // PNG (libpng's simplified API) and JPEG (libjpeg, errors returned by setjmp in C) for the
        // tool. libpng, libjpeg and zlib are linked statically, so the `dnls` binary needs none of
        // them at run time; building needs their -dev packages (libpng-dev, libjpeg-dev, zlib1g-dev).
        .target(name: "CImageCodecs"),
        // Reading PNG/JPEG frames into tensors and writing tensors as PNG; used by `dnls` only.
        .target(
            name: "DNLSImageIO",
            dependencies: ["DNLS", "CImageCodecs"],
            linkerSettings: [.unsafeFlags(["-Xlinker", "-l:libpng16.a", "-Xlinker", "-l:libjpeg.a", "-Xlinker", "-l:libz.a"])]
        ),
        // The command-line tool: benchmarks today, denoising and self-tests later.
        .executableTarget(
            name: "dnls",
            dependencies: [
                "DNLS",
                "DNLSConformance",
                "DNLSDifferentiation",
                "DNLSImageIO",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "DNLSTests", dependencies: ["DNLS", "DNLSConformance", "DNLSTestSupport", "CUDADriver", "CCUDA"]),
        .testTarget(name: "DNLSToolTests", dependencies: ["dnls", "DNLS", "DNLSImageIO", "CImageCodecs"]),
        .testTarget(name: "CUDADriverTests",
                    dependencies: ["CUDADriver", "CCUDA", "CDNLSKernels", "DNLS", "DNLSConformance", "DNLSC", "CDNLSABI",
                                   "CABITestSupport"]),
        .testTarget(name: "DNLSDifferentiationTests", dependencies: ["DNLSDifferentiation", "DNLS", "DNLSConformance", "DNLSTestSupport"]),
        .testTarget(name: "DNLSCTests", dependencies: ["DNLSC", "CDNLSABI", "DNLS", "CABITestSupport"]),
        // Descriptors and call records that own their buffers, for the C ABI tests.
        .target(name: "CABITestSupport", dependencies: ["CDNLSABI"], path: "Tests/CABITestSupport"),
    ],
    swiftLanguageModes: [.v6]
)
