import CUDADriver
import Synchronization

/// Kernel handles of the default module by GPU and name: a launch then skips the module lookup,
/// whose key is the whole source text.
enum KernelHandles {
    private static let table = Mutex<[String: CUDAKernel]>([:])

    static func kernel(_ name: String, runtime: CUDARuntime) throws(DNLSError) -> CUDAKernel {
        let key = "\(runtime.context.ordinal) \(name)"
        if let kernel = table.withLock({ $0[key] }) { return kernel }
        let kernel = try runtime.kernel(name)
        table.withLock { $0[key] = kernel }
        return kernel
    }
}
