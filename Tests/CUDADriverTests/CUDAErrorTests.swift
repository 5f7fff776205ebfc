import CUDADriver
import Testing

/// What the errors say: each names the failing call or library and carries the driver's words.
struct CUDAErrorTests {
    @Test func driverErrorsNameTheCallCodeNameAndMessage() {
        let error = CUDAError.driver(call: "cuMemAlloc(1024 bytes)", code: 2, name: "CUDA_ERROR_OUT_OF_MEMORY",
                                     message: "out of memory")
        #expect(error.description == "cuMemAlloc(1024 bytes) failed: CUDA_ERROR_OUT_OF_MEMORY (2): out of memory")
        #expect(error.description.contains("cuMemAlloc"))
        #expect(error.description.contains("out of memory"))
        #expect("\(error)" == error.description)
    }

    @Test func libraryNotFoundListsEverySearchedPath() {
        let searched = ["libcuda.so.1", "/usr/lib64/libcuda.so.1", "/usr/lib/wsl/lib/libcuda.so.1"]
        let description = CUDAError.libraryNotFound(library: "the CUDA driver (libcuda.so.1)", searched: searched).description
        #expect(description.hasPrefix("the CUDA driver (libcuda.so.1) not found"))
        for path in searched { #expect(description.contains(path)) }
        #expect(description.hasSuffix(searched.joined(separator: ", ")))
        #expect(CUDAError.libraryNotFound(library: "NVRTC", searched: []).description.contains("(nowhere)"))
    }

    @Test func theOtherCasesSayWhatWentWrong() {
        #expect(CUDAError.symbolMissing(library: "/usr/lib64/libcuda.so.1", symbol: "cuMemAlloc_v2").description
                    == "/usr/lib64/libcuda.so.1 has no symbol cuMemAlloc_v2 (driver or NVRTC too old?)")
        #expect(CUDAError.nvrtc(call: "nvrtcCreateProgram", code: 3, message: "NVRTC_ERROR_INVALID_INPUT").description
                    == "nvrtcCreateProgram failed: NVRTC_ERROR_INVALID_INPUT (3)")
        let compilation = CUDAError.compilation(program: "search", log: "search.cu(3): error: bad kernel").description
        #expect(compilation.contains("search"))
        #expect(compilation.contains("error: bad kernel"))
        #expect(CUDAError.noDevice(ordinal: 3, count: 1).description == "no CUDA device 3: this machine has 1")
        #expect(CUDAError.invalidArgument("negative allocation size -1").description == "negative allocation size -1")
    }
}
