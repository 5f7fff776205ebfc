import CCUDA

/// A loaded kernel entry point. Its module stays loaded for the life of the ``KernelCache``.
package struct CUDAKernel: @unchecked Sendable {
    /// The context the kernel's module is loaded in.
    package let context: CUDAContext
    /// The driver's handle of the entry point.
    package let function: CUfunction
    /// The entry point's name, for errors.
    package let name: String

    /// Lets the kernel use up to `bytes` of dynamic shared memory (needed above 48 KiB).
    package func allowSharedMemory(bytes: Int) throws(CUDAError) {
        try context.makeCurrent()
        try context.driver.check(
            context.driver.cuFuncSetAttribute(function, Int32(DNLS_CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES),
                                              Int32(bytes)), "cuFuncSetAttribute(\(name))")
    }

    /// Launches the kernel on `stream` (the default stream when `nil`) with `parameters` as its
    /// one parameter: a C struct, passed by value, that the kernel declares with the same layout
    /// (the structs of a header both sides compile).
    package func launch<Parameters: BitwiseCopyable>(grid: (Int, Int, Int), block: (Int, Int, Int), sharedBytes: Int = 0,
                                                    stream: CUDAStream? = nil, parameters: Parameters) throws(CUDAError) {
        var parameters = parameters
        try withUnsafeMutableBytes(of: &parameters) { (bytes) throws(CUDAError) in
            var pointer: UnsafeMutableRawPointer? = bytes.baseAddress
            try withUnsafeMutablePointer(to: &pointer) { (pointers) throws(CUDAError) in
                try launch(grid: grid, block: block, sharedBytes: sharedBytes, stream: stream, parameterPointers: pointers)
            }
        }
    }

    /// The launch itself: `parameterPointers` points at one pointer per kernel parameter.
    private func launch(grid: (Int, Int, Int), block: (Int, Int, Int), sharedBytes: Int, stream: CUDAStream?,
                        parameterPointers: UnsafeMutablePointer<UnsafeMutableRawPointer?>) throws(CUDAError) {
        guard grid.0 > 0, grid.1 > 0, grid.2 > 0, grid.0 < (1 << 31), grid.1 < 65536, grid.2 < 65536 else {
            throw .invalidArgument("kernel \(name): grid \(grid) outside the device's limits")
        }
        guard block.0 > 0, block.1 > 0, block.2 > 0, block.0 * block.1 * block.2 <= 1024,
              sharedBytes >= 0, sharedBytes <= Int(UInt32.max) else {
            throw .invalidArgument("kernel \(name): block \(block) or shared memory \(sharedBytes) bytes outside the device's limits")
        }
        try context.makeCurrent()
        let result = context.driver.cuLaunchKernel(function, UInt32(grid.0), UInt32(grid.1), UInt32(grid.2),
                                                   UInt32(block.0), UInt32(block.1), UInt32(block.2),
                                                   UInt32(sharedBytes), stream?.handle, parameterPointers, nil)
        try context.driver.check(result, "cuLaunchKernel(\(name))")
    }
}
