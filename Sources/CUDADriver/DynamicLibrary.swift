#if canImport(Glibc)
import Glibc
#endif

/// A shared library opened with `dlopen`, kept open for the life of the process.
struct DynamicLibrary: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer
    let path: String

    /// Opens the first of `candidates` that `dlopen` accepts; the error lists every candidate.
    static func open(_ name: String, candidates: [String]) throws(CUDAError) -> DynamicLibrary {
        for path in candidates {
            if let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) {
                return DynamicLibrary(handle: handle, path: path)
            }
        }
        throw .libraryNotFound(library: name, searched: candidates)
    }

    /// The address of `symbol`, or an error naming it.
    func symbol<T>(_ symbol: String, as _: T.Type) throws(CUDAError) -> T {
        guard let address = dlsym(handle, symbol) else {
            throw .symbolMissing(library: path, symbol: symbol)
        }
        return unsafeBitCast(address, to: T.self)
    }

    /// The address of `symbol`, or `nil` when the library lacks it (entry points DNLS can do without).
    func optionalSymbol<T>(_ symbol: String, as _: T.Type) -> T? {
        guard let address = dlsym(handle, symbol) else { return nil }
        return unsafeBitCast(address, to: T.self)
    }
}

/// Process environment lookup without Foundation.
func environment(_ name: String) -> String? {
    guard let value = getenv(name) else { return nil }
    return String(cString: value)
}

/// Entries of a directory (names only), empty when it cannot be read.
func directoryEntries(_ path: String) -> [String] {
    guard let dir = opendir(path) else { return [] }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
        let name = withUnsafePointer(to: entry.pointee.d_name) {
            $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
        }
        if name != "." && name != ".." { names.append(name) }
    }
    return names.sorted()
}
