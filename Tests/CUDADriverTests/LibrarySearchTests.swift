import CCUDA
@testable import CUDADriver
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Runs `body` with the environment variable `name` set to `value` (unset when `nil`), then puts
/// back what was there.
func withEnvironment<R>(_ name: String, _ value: String?, _ body: () throws -> R) rethrows -> R {
    let saved = getenv(name).map { String(cString: $0) }
    func set(_ value: String?) {
        if let value { setenv(name, value, 1) } else { unsetenv(name) }
    }
    set(value)
    defer { set(saved) }
    return try body()
}

/// Whether a directory exists.
func isDirectory(_ path: String) -> Bool {
    guard let dir = opendir(path) else { return false }
    closedir(dir)
    return true
}

/// Whether this machine has a CUDA driver `DriverFunctions.load()` can open.
let driverInstalled = DriverFunctions.searchPaths.contains { path in
    guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else { return false }
    dlclose(handle)
    return true
}

/// Finding and opening the driver and NVRTC. Serialised: some tests change the environment.
@Suite(.serialized)
struct LibrarySearchTests {
    @Test func openingNothingThatExistsListsEveryPlaceTried() {
        let candidates = ["/nonexistent/dnls/libcuda.so.1", "libdnls-does-not-exist.so.7", "/also/not/here.so"]
        #expect(throws: CUDAError.libraryNotFound(library: "a test library", searched: candidates)) {
            _ = try DynamicLibrary.open("a test library", candidates: candidates)
        }
        #expect(throws: CUDAError.libraryNotFound(library: "nothing", searched: [])) {
            _ = try DynamicLibrary.open("nothing", candidates: [])
        }
    }

    @Test func theFirstCandidateThatOpensIsUsedAndMissingSymbolsAreNamed() throws {
        let lib = try DynamicLibrary.open("libc", candidates: ["/nonexistent/libc.so.6", "libc.so.6"])
        #expect(lib.path == "libc.so.6")
        typealias Strlen = @convention(c) (UnsafePointer<CChar>?) -> Int
        let strlen = try lib.symbol("strlen", as: Strlen.self)
        #expect(strlen("four") == 4)
        #expect(throws: CUDAError.symbolMissing(library: "libc.so.6", symbol: "dnls_no_such_symbol")) {
            _ = try lib.symbol("dnls_no_such_symbol", as: Strlen.self)
        }
        // A library that is not the driver: the first entry point is reported missing.
        #expect(throws: CUDAError.symbolMissing(library: "libc.so.6", symbol: "cuInit")) {
            _ = try DriverFunctions.load(from: lib)
        }
    }

    @Test(.enabled(if: !driverInstalled, "this machine has a CUDA driver"))
    func withoutADriverLoadListsTheDriverSearchPaths() {
        let error = #expect(throws: CUDAError.self) { _ = try DriverFunctions.load() }
        guard case let .libraryNotFound(library, searched)? = error else {
            Issue.record("expected libraryNotFound, got \(String(describing: error))")
            return
        }
        #expect(library.contains("libcuda.so.1"))
        #expect(searched == DriverFunctions.searchPaths)
        #expect(searched.first == "libcuda.so.1")
        // The shared entry points report the same.
        #expect(throws: error!) { _ = try CUDAContext.systemDriver() }
        #expect(throws: error!) { _ = try CUDAContext.shared(ordinal: 0) }
    }

    @Test func nvrtcSearchStartsWithTheLoaderNames() {
        let paths = withEnvironment("DNLS_NVRTC_PATH", nil) { NVRTCFunctions.searchPaths() }
        #expect(Array(paths.prefix(NVRTCFunctions.names.count)) == NVRTCFunctions.names)
        #expect(NVRTCFunctions.names.allSatisfy(paths.contains))
        let empty = withEnvironment("DNLS_NVRTC_PATH", "") { NVRTCFunctions.searchPaths() }
        #expect(empty == paths)
    }

    @Test func dnlsNVRTCPathComesFirst() {
        let file = "/opt/somewhere/libnvrtc.so.12"
        let withFile = withEnvironment("DNLS_NVRTC_PATH", file) { NVRTCFunctions.searchPaths() }
        #expect(withFile.first == file)
        #expect(Array(withFile.dropFirst().prefix(NVRTCFunctions.names.count)) == NVRTCFunctions.names)

        let bare = "/opt/somewhere/libnvrtc.so"
        #expect(withEnvironment("DNLS_NVRTC_PATH", bare) { NVRTCFunctions.searchPaths() }.first == bare)

        let folder = "/opt/nvrtc-folder"
        let withFolder = withEnvironment("DNLS_NVRTC_PATH", folder) { NVRTCFunctions.searchPaths() }
        let inFolder = NVRTCFunctions.names.map { folder + "/" + $0 }
        #expect(Array(withFolder.prefix(inFolder.count)) == inFolder)
        #expect(Array(withFolder.dropFirst(inFolder.count).prefix(NVRTCFunctions.names.count)) == NVRTCFunctions.names)
    }

    @Test func usrLocalCudaFoldersAppearOnlyWhenPresent() {
        let paths = withEnvironment("DNLS_NVRTC_PATH", nil) { NVRTCFunctions.searchPaths() }
        let home = getenv("CUDA_HOME").map { String(cString: $0) }
        for path in paths where path.hasPrefix("/usr/local/cuda") {
            // "/usr/local/<folder>/lib64/<name>": the folder must exist (or be $CUDA_HOME).
            let folder = path.split(separator: "/", omittingEmptySubsequences: true).prefix(3).joined(separator: "/")
            #expect(isDirectory("/" + folder) || (home.map { path.hasPrefix($0 + "/") } ?? false), "\(path)")
            #expect(path.contains("/lib64/libnvrtc.so"))
        }
        for entry in directoryEntries("/usr/local") where entry.hasPrefix("cuda") {
            for name in NVRTCFunctions.names {
                #expect(paths.contains("/usr/local/\(entry)/lib64/\(name)"))
            }
        }
        if !isDirectory("/usr/local/cuda") && home == nil {
            #expect(!paths.contains { $0.hasPrefix("/usr/local/cuda/") })
        }
    }

    @Test func cudaHomeIsSearched() {
        let paths = withEnvironment("DNLS_NVRTC_PATH", nil) {
            withEnvironment("CUDA_HOME", "/dnls-test/cuda-home") { NVRTCFunctions.searchPaths() }
        }
        for name in NVRTCFunctions.names {
            #expect(paths.contains("/dnls-test/cuda-home/lib64/\(name)"))
        }
        let without = withEnvironment("DNLS_NVRTC_PATH", nil) {
            withEnvironment("CUDA_HOME", nil) { NVRTCFunctions.searchPaths() }
        }
        #expect(!without.contains { $0.hasPrefix("/dnls-test/") })
    }

    @Test func aFailedNVRTCLoadListsTheSameSearchPaths() {
        withEnvironment("DNLS_NVRTC_PATH", "/nonexistent/dnls/libnvrtc.so.13") {
            do throws(CUDAError) {
                _ = try NVRTCFunctions.load()   // this machine has NVRTC somewhere: nothing to check
            } catch {
                guard case let .libraryNotFound(library, searched) = error else {
                    Issue.record("unexpected \(error)")
                    return
                }
                #expect(library.contains("NVRTC"))
                #expect(searched == NVRTCFunctions.searchPaths())
                #expect(searched.first == "/nonexistent/dnls/libnvrtc.so.13")
            }
        }
    }

    @Test func kernelCacheDirectoryFollowsXDGThenHome() {
        withEnvironment("XDG_CACHE_HOME", "/dnls-test/xdg") {
            #expect(KernelCache.defaultDirectory() == "/dnls-test/xdg/dnls")
        }
        withEnvironment("XDG_CACHE_HOME", nil) {
            withEnvironment("HOME", "/dnls-test/home") {
                #expect(KernelCache.defaultDirectory() == "/dnls-test/home/.cache/dnls")
            }
            withEnvironment("HOME", nil) { #expect(KernelCache.defaultDirectory() == nil) }
        }
    }
}
