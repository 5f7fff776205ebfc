import Foundation
import Testing

/// The architecture's boundaries, checked on the sources: the operations reach a device only
/// through the backend protocols, and targets that users cannot import declare nothing `public`.
@Suite("Layering")
struct LayeringTests {
    static let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Sources").standardized

    /// The code lines (comments dropped) of every Swift file under `folder`, by file name.
    static func codeLines(under folder: String) throws -> [(file: String, line: String)] {
        let root = sources.appendingPathComponent(folder)
        let files = try FileManager.default.contentsOfDirectory(atPath: root.path).filter { $0.hasSuffix(".swift") }
        #expect(!files.isEmpty, "no Swift files in \(folder)")
        return try files.sorted().flatMap { file in
            try String(contentsOf: root.appendingPathComponent(file), encoding: .utf8)
                .split(separator: "\n", omittingEmptySubsequences: false)
                .map { line in (file, String(line.split(separator: "//", maxSplits: 1, omittingEmptySubsequences: false)[0])) }
        }
    }

    @Test("The operations never name the CUDA backend or the driver layer")
    func operationsGoThroughTheBackendProtocols() throws {
        let named = try Self.codeLines(under: "DNLS/Operations").filter { entry in
            ["CUDABackend", "CUDARuntime", "CUDADriver", "CUDAContext"].contains { entry.line.contains($0) }
        }
        #expect(named.isEmpty, "\(named.map { "\($0.file): \($0.line)" })")
    }

    @Test("Targets that users cannot import use package access", arguments: ["CUDADriver", "DNLSConformance",
                                                                            "DNLSImageIO", "DNLSTestSupport"])
    func packageAccess(target: String) throws {
        let publics = try Self.codeLines(under: target).filter { $0.line.range(of: #"(^|[^A-Za-z_.])public\b"#, options: .regularExpression) != nil }
        #expect(publics.isEmpty, "\(publics.map { "\($0.file): \($0.line)" })")
    }
}
