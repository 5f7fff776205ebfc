import Foundation
import Testing

@testable import DNLS

/// The CUDA backend compiles one kernel family at a time; these checks run without a GPU.
@Suite struct CUDAKernelModuleTests {
    @Test func entryPointsAreReadFromDeclarations() {
        let text = """
            // a comment that names no __global__ function
            extern "C" __global__ void first(int a) {}
            __device__ void helper() {}
            extern "C" __global__ void __launch_bounds__(BLOCK, 3) second_one(const float* x) {}
            extern "C" __global__ void third32(
                int b) {}
            """
        #expect(CUDAKernelModule.entryPoints(in: text) == ["first", "second_one", "third32"])
    }

    @Test func everyKernelBelongsToExactlyOneModule() {
        let whole = CUDAKernelModule.entryPoints(in: CUDAKernelSource.text)
        let byModule = CUDAKernelModule.all.flatMap(\.kernels)
        #expect(!whole.isEmpty)
        #expect(byModule.sorted() == whole.sorted(), "a family is missing from CUDAKernelModule.all")
        #expect(Set(byModule).count == byModule.count, "a kernel name is declared twice")
        for module in CUDAKernelModule.all {
            #expect(module.source.hasPrefix(CUDAKernelSource.common), "\(module.name)")
            for kernel in module.kernels {
                #expect(CUDAKernelModule.declaring(kernel)?.name == module.name, "\(kernel)")
            }
        }
        #expect(CUDAKernelModule.declaring("no_such_kernel") == nil)
    }

    /// Every kernel name the backend passes to a launch is declared by some module (a missing one
    /// would only fail on a GPU).
    @Test func everyLaunchedKernelIsDeclared() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Sources/DNLS/Backends/CUDA").standardized
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix("CUDABackend") }
        #expect(!files.isEmpty)
        var launched: Set<String> = []
        for file in files {
            let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            for line in text.split(separator: "\n") where line.contains("launch(") || line.contains("aggregate(")
                || line.contains("kernel(") {
                for match in line.matches(of: /"([a-z][a-z0-9]*_[a-z0-9_]*)"/) { launched.insert(String(match.1)) }
            }
        }
        #expect(launched.count >= 20, "found \(launched.sorted())")
        for kernel in launched.sorted() {
            #expect(CUDAKernelModule.declaring(kernel) != nil, "\(kernel) is launched but no family declares it")
        }
    }
}
