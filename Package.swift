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
        .target(name: "DNLS"),
        // The command-line tool: benchmarks today, denoising and self-tests later.
        .executableTarget(
            name: "dnls",
            dependencies: [
                "DNLS",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "DNLSTests", dependencies: ["DNLS"]),
    ],
    swiftLanguageModes: [.v6]
)
