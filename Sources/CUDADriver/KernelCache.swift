import CCUDA
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// CUDA C++ source of one module and the options it is compiled with.
package struct KernelSource: Sendable, Hashable {
    /// A name for logs and errors, e.g. "search".
    package var name: String
    /// The CUDA C++ text.
    package var source: String
    /// Specialisation constants, passed as `-D NAME=VALUE`.
    package var constants: [String: String]

    /// A module's source with its specialisation constants.
    package init(name: String, source: String, constants: [String: String] = [:]) {
        self.name = name
        self.source = source
        self.constants = constants
    }
}

/// Compiles kernel sources with NVRTC for the live GPU and keeps the loaded modules.
///
/// Thread-safe. Modules are keyed by source, specialisation constants, architecture and driver
/// version; compiled binaries are also kept on disk under `$XDG_CACHE_HOME/dnls` (or
/// `~/.cache/dnls`), so a later process skips NVRTC. A cached binary the driver rejects is
/// compiled again.
package final class KernelCache: @unchecked Sendable {
    /// The GPU the kernels are compiled for and loaded on.
    package let context: CUDAContext
    private let nvrtc: Result<NVRTCFunctions, CUDAError>
    private let directory: String?
    private let modules = Mutex<[String: CUmodule]>([:])

    /// A cache for `context`. NVRTC is looked for now (unless given); if it is missing, a cache
    /// whose modules are all on disk still works, and compiling reports where NVRTC was looked for.
    package init(context: CUDAContext, nvrtc: Result<NVRTCFunctions, CUDAError>? = nil, directory: String? = KernelCache.defaultDirectory()) {
        self.context = context
        self.directory = directory
        if let nvrtc {
            self.nvrtc = nvrtc
        } else {
            do throws(CUDAError) { self.nvrtc = .success(try NVRTCFunctions.load()) } catch { self.nvrtc = .failure(error) }
        }
    }

    deinit {
        modules.withLock { table in
            if (try? context.makeCurrent()) != nil {
                for module in table.values { _ = context.driver.cuModuleUnload(module) }
            }
        }
    }

    /// `$XDG_CACHE_HOME/dnls`, else `$HOME/.cache/dnls`, else none.
    package static func defaultDirectory() -> String? {
        if let xdg = environment("XDG_CACHE_HOME"), !xdg.isEmpty { return xdg + "/dnls" }
        if let home = environment("HOME"), !home.isEmpty { return home + "/.cache/dnls" }
        return nil
    }

    /// The entry point `function` of `source`, compiling and loading the module on first use.
    package func kernel(_ function: String, in source: KernelSource) throws(CUDAError) -> CUDAKernel {
        let module = try self.module(source)
        try context.makeCurrent()
        var handle: CUfunction? = nil
        try context.driver.check(context.driver.cuModuleGetFunction(&handle, module, function),
                                 "cuModuleGetFunction(\(function))")
        guard let handle else { throw .invalidArgument("no function \(function) in \(source.name)") }
        return CUDAKernel(context: context, function: handle, name: function)
    }

    /// The compile options for this GPU.
    func options(_ source: KernelSource) -> [String] {
        ["--gpu-architecture=\(context.architecture)", "-std=c++17", "-default-device"]
            + source.constants.sorted { $0.key < $1.key }.map { "-D\($0.key)=\($0.value)" }
    }

    private func module(_ source: KernelSource) throws(CUDAError) -> CUmodule {
        let options = self.options(source)
        // NVRTC's version is left out so that binaries on disk serve a process without NVRTC; a
        // binary the driver cannot load is compiled again.
        let key = ([source.source] + options + ["driver \(context.driverVersion)"])
            .joined(separator: "\u{0}")
        let result: Result<CUmodule, CUDAError> = modules.withLock { table in
            if let module = table[key] { return .success(module) }
            do throws(CUDAError) {
                try context.makeCurrent()
                var module: CUmodule? = nil
                let load = { (image: [UInt8]) in image.withUnsafeBytes { self.context.driver.cuModuleLoadData(&module, $0.baseAddress) } }
                if let cached = cachedBinary(key: key), load(cached) == 0 {
                    // Loaded from disk.
                } else {
                    try context.driver.check(load(try compile(source, options: options, key: key)), "cuModuleLoadData(\(source.name))")
                }
                guard let module else { throw CUDAError.invalidArgument("cuModuleLoadData returned no module") }
                table[key] = module
                return .success(module)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Runs NVRTC; the error carries the compile log.
    private func compile(_ source: KernelSource, options: [String], key: String) throws(CUDAError) -> [UInt8] {
        let nvrtc = try self.nvrtc.get()
        var program: nvrtcProgram? = nil
        try nvrtc.check(nvrtc.nvrtcCreateProgram(&program, source.source, source.name + ".cu", 0, nil, nil), "nvrtcCreateProgram")
        defer { _ = nvrtc.nvrtcDestroyProgram(&program) }
        let cOptions = options.map { strdup($0) }
        defer { cOptions.forEach { free($0) } }
        let status = cOptions.map { UnsafePointer($0) }.withUnsafeBufferPointer {
            nvrtc.nvrtcCompileProgram(program, Int32($0.count), $0.baseAddress)
        }
        if status != 0 && status != 6 {  // 6 = NVRTC_ERROR_COMPILATION: the log says why
            try nvrtc.check(status, "nvrtcCompileProgram")
        }
        if status != 0 {
            var size = 0
            _ = nvrtc.nvrtcGetProgramLogSize(program, &size)
            var log = [CChar](repeating: 0, count: max(size, 1))
            _ = nvrtc.nvrtcGetProgramLog(program, &log)
            throw .compilation(program: source.name, log: String(decoding: log.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        var size = 0
        try nvrtc.check(nvrtc.nvrtcGetCUBINSize(program, &size), "nvrtcGetCUBINSize")
        var binary = [UInt8](repeating: 0, count: size)
        let copied = binary.withUnsafeMutableBytes { nvrtc.nvrtcGetCUBIN(program, $0.baseAddress!.assumingMemoryBound(to: CChar.self)) }
        try nvrtc.check(copied, "nvrtcGetCUBIN")
        storeBinary(binary, key: key)
        return binary
    }

    // MARK: disk cache (file = key length, key, binary; the key is checked on load)

    private func path(for key: String) -> String? {
        guard let directory else { return nil }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        let hex = String(hash, radix: 16)
        return directory + "/" + String(repeating: "0", count: 16 - hex.count) + hex + ".cubin"
    }

    private func cachedBinary(key: String) -> [UInt8]? {
        guard let path = path(for: key), let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = fread(&chunk, 1, chunk.count, file)
            if n <= 0 { break }
            bytes += chunk[0..<n]
        }
        let keyBytes = Array(key.utf8)
        let header = 8 + keyBytes.count
        guard bytes.count > header else { return nil }
        var length = 0
        for i in 0..<8 { length |= Int(bytes[i]) << (8 * i) }
        guard length == keyBytes.count, Array(bytes[8..<header]) == keyBytes else { return nil }
        return Array(bytes[header...])
    }

    private func storeBinary(_ binary: [UInt8], key: String) {
        guard let directory, let path = path(for: key) else { return }
        makeDirectories(directory)
        let temporary = path + ".\(getpid()).tmp"
        guard let file = fopen(temporary, "wb") else { return }
        let keyBytes = Array(key.utf8)
        var header = (0..<8).map { UInt8(truncatingIfNeeded: keyBytes.count >> (8 * $0)) }
        header += keyBytes
        let ok = fwrite(header, 1, header.count, file) == header.count && fwrite(binary, 1, binary.count, file) == binary.count
        fclose(file)
        if ok { rename(temporary, path) } else { unlink(temporary) }
    }

    private func makeDirectories(_ path: String) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            mkdir(prefix, 0o755)
        }
    }
}
