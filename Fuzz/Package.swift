// swift-tools-version:6.0
import PackageDescription

// libFuzzer targets for DNLS's file parsers, a package of its own so that it may use unsafe flags
// (-parse-as-library: a fuzz target has no main; libFuzzer brings it). Build and run with
// `./run.sh <seconds>`; see README.md.
//
// The root package vends only the DNLS library, so the PNG/JPEG reader is compiled here from the
// root's own source folders (Sources/CImageCodecs and Sources/DNLSImageIO here are symbolic links
// to them): the code fuzzed is the code `dnls` runs.
let fuzzTarget: [SwiftSetting] = [.unsafeFlags(["-parse-as-library"])]

let package = Package(
    name: "DNLSFuzz",
    dependencies: [
        .package(name: "DNLS", path: ".."),
    ],
    targets: [
        // Target names must differ from the root's; the C module is still CImageCodecs (its
        // module.modulemap says so), which ImageIO.swift imports.
        .target(name: "FuzzImageCodecs", path: "Sources/CImageCodecs"),
        .target(
            name: "FuzzImageIO",
            dependencies: [.product(name: "DNLS", package: "DNLS"), "FuzzImageCodecs"],
            path: "Sources/DNLSImageIO",
            linkerSettings: [.unsafeFlags(["-Xlinker", "-l:libpng16.a", "-Xlinker", "-l:libjpeg.a", "-Xlinker", "-l:libz.a"])]
        ),
        // NPY.read(bytes:): the .npy header parser and the data checks.
        .executableTarget(name: "FuzzNPY", dependencies: [.product(name: "DNLS", package: "DNLS")], swiftSettings: fuzzTarget),
        // ImageIO.decode: PNG (libpng) and JPEG (libjpeg) decoding with DNLS's checks.
        .executableTarget(name: "FuzzImage", dependencies: ["FuzzImageIO"], swiftSettings: fuzzTarget),
        // Prints how NPY reads each file named: for comparing with NumPy (numpy_differential.py).
        .executableTarget(name: "NPYVerdict", dependencies: [.product(name: "DNLS", package: "DNLS")]),
    ],
    swiftLanguageModes: [.v6]
)
