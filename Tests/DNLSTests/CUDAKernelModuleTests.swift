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
            #expect(module.source.hasPrefix(CUDAKernelSource.headers + CUDAKernelSource.common), "\(module.name)")
            for kernel in module.kernels {
                #expect(CUDAKernelModule.declaring(kernel)?.name == module.name, "\(kernel)")
            }
        }
        #expect(CUDAKernelModule.declaring("no_such_kernel") == nil)
    }

    /// The typed entry points are exactly the kernels the sources declare, each in one module.
    @Test func everyEntryIsDeclaredAndEveryDeclarationHasAnEntry() {
        let declared = CUDAKernelModule.entryPoints(in: CUDAKernelSource.text)
        #expect(CUDAKernelEntry.allCases.map(\.rawValue).sorted() == declared.sorted())
        for entry in CUDAKernelEntry.allCases {
            #expect(CUDAKernelModule.declaring(entry.rawValue) != nil, "\(entry)")
        }
    }

    /// The typed constants spell the definitions the modules were always compiled with (the
    /// module cache on disk is keyed by them, and the machine code follows from them).
    @Test func constantsSpellTheirDefinitions() {
        #expect(CUDAKernelConstants().definitions == ["KMAX": "1", "WHOLE": "0", "GUARDED": "0"])
        let search = CUDAKernelConstants(kept: 10, wholeWindow: true, guarded: true)
        #expect(search.definitions == ["KMAX": "10", "WHOLE": "1", "GUARDED": "1"])
        #expect(CUDAKernelConstants(foldPatchSize: 7).definitions["FOLD_PS"] == "7")
        #expect(CUDAKernelConstants(foldPatchSize: 7).definitions["FOLD_STRIDE"] == nil)
        #expect(CUDAKernelConstants(foldPatchSize: 7, foldGridStride: 4).definitions["FOLD_STRIDE"] == "4")
        let unfold = CUDAKernelConstants(unfoldPatchSize: 5, unfoldRun: 4).definitions
        #expect(unfold["UNF_PS"] == "5" && unfold["UNF_RUN"] == "4" && unfold.count == 5)
        var box = BoxSearchConstants(tile: 16, threads: 288, windowSize: 21, patchSize: 7, dilation: 1, gridStride: 1,
                                     channelChunk: 3, registerChannels: 3, columnGroup: 7, windowStride: 1, rowGroup: 2,
                                     rowsInRegisters: 2, buffers: 1, residentBlocks: 3, sumStride: 17, onePass: true,
                                     queryWindowSize: 21)
        #expect(box.definitions.count == 18 && box.definitions["BOX_TQP"] == "17" && box.definitions["BOX_ONCE"] == "1")
        #expect(box.definitions["BOX_FLOW"] == "0" && box.definitions["BOX_QWS"] == "21")
        box.sharesTiles = false
        box.l2 = true
        #expect(box.definitions["BOX_SPLIT"] == "0" && box.definitions["BOX_L2"] == "1" && box.definitions.count == 20)
        #expect(CUDAKernelConstants(box: box).definitions.count == 23)
        box.flow = true
        box.windowSize = 29
        #expect(box.definitions["BOX_FLOW"] == "1" && box.definitions["BOX_WS"] == "29" && box.definitions["BOX_QWS"] == "21")
    }

    /// Every kernel takes one parameter, by value: a struct declared in the header Swift imports
    /// (`dnls_kernels.h`), so the launch and the kernel cannot disagree on an argument's position
    /// or width. Every typed entry point is such a kernel.
    @Test func everyKernelTakesOneParameterStructFromTheHeader() {
        let declaration = /__global__ void (?:__launch_bounds__\([^)]*\) )?([a-z_0-9]+)\(([^)]*)\)/
        var kernels: [String] = []
        for match in CUDAKernelSource.text.matches(of: declaration) {
            let name = String(match.1), parameters = match.2.split(separator: " ", omittingEmptySubsequences: true)
            #expect(parameters.count == 3 && parameters[0] == "const" && parameters[1].hasPrefix("DNLS") && parameters[2] == "p",
                    "\(name) takes \(match.2) (expected `const DNLS… p`)")
            if parameters.count == 3 {
                #expect(CUDAKernelSource.parameters.contains("typedef struct \(parameters[1]) {"), "\(name): \(parameters[1])")
            }
            kernels.append(name)
        }
        #expect(Set(kernels) == Set(CUDAKernelEntry.allCases.map(\.rawValue)), "\(kernels)")
    }

    /// The kernels compile the very headers Swift imports: the embedded texts are the files'.
    @Test func theEmbeddedHeadersAreTheHeaderFiles() throws {
        let include = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Sources/CDNLSKernels/include").standardized
        for (file, embedded) in [("dnls_kernels.h", CUDAKernelSource.parameters), ("dnls_rules.h", CUDAKernelSource.rules)] {
            let text = try String(contentsOf: include.appendingPathComponent(file), encoding: .utf8)
            #expect(!text.isEmpty && embedded == text, "\(file)")
        }
        #expect(CUDAKernelSource.text.hasPrefix(CUDAKernelSource.parameters + CUDAKernelSource.rules))
    }
}
