import CCUDA

/// The NVRTC entry points DNLS calls, as a table of C function pointers.
package struct NVRTCFunctions: @unchecked Sendable {
    /// The NVRTC entry point `nvrtcGetErrorString`.
    package var nvrtcGetErrorString: PFN_nvrtcGetErrorString
    /// The NVRTC entry point `nvrtcVersion`.
    package var nvrtcVersion: PFN_nvrtcVersion
    /// The NVRTC entry point `nvrtcCreateProgram`.
    package var nvrtcCreateProgram: PFN_nvrtcCreateProgram
    /// The NVRTC entry point `nvrtcDestroyProgram`.
    package var nvrtcDestroyProgram: PFN_nvrtcDestroyProgram
    /// The NVRTC entry point `nvrtcCompileProgram`.
    package var nvrtcCompileProgram: PFN_nvrtcCompileProgram
    /// The NVRTC entry point `nvrtcGetProgramLogSize`.
    package var nvrtcGetProgramLogSize: PFN_nvrtcGetProgramLogSize
    /// The NVRTC entry point `nvrtcGetProgramLog`.
    package var nvrtcGetProgramLog: PFN_nvrtcGetProgramLog
    /// The NVRTC entry point `nvrtcGetCUBINSize`.
    package var nvrtcGetCUBINSize: PFN_nvrtcGetCUBINSize
    /// The NVRTC entry point `nvrtcGetCUBIN`.
    package var nvrtcGetCUBIN: PFN_nvrtcGetCUBIN

    /// Library names NVRTC ships under, newest first.
    static let names = ["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2", "libnvrtc.so"]

    /// Where NVRTC is looked for, in order: `DNLS_NVRTC_PATH` (a file or a folder), the loader's
    /// search path, `/usr/local/cuda*/lib64`, `$CUDA_HOME/lib64`, and the library folder of an
    /// installed `nvidia-cuda-nvrtc` Python wheel (`nvidia/cuda_nvrtc/lib`, or `nvidia/cu13/lib`
    /// for CUDA 13 wheels) in the usual Python environments.
    package static func searchPaths() -> [String] {
        var paths: [String] = []
        if let explicit = environment("DNLS_NVRTC_PATH"), !explicit.isEmpty {
            paths += explicit.hasSuffix(".so") || explicit.contains(".so.") ? [explicit] : names.map { explicit + "/" + $0 }
        }
        paths += names
        for entry in directoryEntries("/usr/local") where entry.hasPrefix("cuda") {
            paths += names.map { "/usr/local/\(entry)/lib64/\($0)" }
        }
        if let home = environment("CUDA_HOME"), !home.isEmpty {
            paths += names.map { "\(home)/lib64/\($0)" }
        }
        for sitePackages in pythonSitePackages() {
            for folder in ["nvidia/cuda_nvrtc/lib", "nvidia/cu13/lib", "nvidia/cu12/lib"] {
                paths += names.map { "\(sitePackages)/\(folder)/\($0)" }
            }
        }
        return paths
    }

    /// `site-packages`/`dist-packages` folders of the Python environments one usually finds.
    static func pythonSitePackages() -> [String] {
        var roots = ["/usr/lib", "/usr/local/lib"]
        if let venv = environment("VIRTUAL_ENV") { roots.append(venv + "/lib") }
        if let conda = environment("CONDA_PREFIX") { roots.append(conda + "/lib") }
        if let home = environment("HOME") { roots.append(home + "/.local/lib") }
        for opt in directoryEntries("/opt") {
            roots += ["/opt/\(opt)/lib", "/opt/\(opt)/.venv/lib", "/opt/\(opt)/venv/lib"]
        }
        var folders: [String] = []
        for root in roots {
            for python in directoryEntries(root) where python.hasPrefix("python3") {
                folders += ["\(root)/\(python)/site-packages", "\(root)/\(python)/dist-packages"]
            }
        }
        return folders
    }

    /// Opens NVRTC from the first place that has it and resolves every entry point.
    package static func load() throws(CUDAError) -> NVRTCFunctions {
        let lib = try DynamicLibrary.open("NVRTC (libnvrtc.so)", candidates: searchPaths())
        return NVRTCFunctions(
            nvrtcGetErrorString: try lib.symbol("nvrtcGetErrorString", as: PFN_nvrtcGetErrorString.self),
            nvrtcVersion: try lib.symbol("nvrtcVersion", as: PFN_nvrtcVersion.self),
            nvrtcCreateProgram: try lib.symbol("nvrtcCreateProgram", as: PFN_nvrtcCreateProgram.self),
            nvrtcDestroyProgram: try lib.symbol("nvrtcDestroyProgram", as: PFN_nvrtcDestroyProgram.self),
            nvrtcCompileProgram: try lib.symbol("nvrtcCompileProgram", as: PFN_nvrtcCompileProgram.self),
            nvrtcGetProgramLogSize: try lib.symbol("nvrtcGetProgramLogSize", as: PFN_nvrtcGetProgramLogSize.self),
            nvrtcGetProgramLog: try lib.symbol("nvrtcGetProgramLog", as: PFN_nvrtcGetProgramLog.self),
            nvrtcGetCUBINSize: try lib.symbol("nvrtcGetCUBINSize", as: PFN_nvrtcGetCUBINSize.self),
            nvrtcGetCUBIN: try lib.symbol("nvrtcGetCUBIN", as: PFN_nvrtcGetCUBIN.self))
    }

    /// Turns an NVRTC result into a typed error.
    package func check(_ result: nvrtcResult, _ call: @autoclosure () -> String) throws(CUDAError) {
        guard result != 0 else { return }
        let message = nvrtcGetErrorString(result).map { String(cString: $0) } ?? "NVRTC error"
        throw .nvrtc(call: call(), code: result, message: message)
    }
}
