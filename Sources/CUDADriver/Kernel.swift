import CCUDA

/// A loaded kernel entry point. Its module stays loaded for the life of the ``KernelCache``.
public struct CUDAKernel: @unchecked Sendable {
    /// The context the kernel's module is loaded in.
    public let context: CUDAContext
    /// The driver's handle of the entry point.
    public let function: CUfunction
    /// The entry point's name, for errors.
    public let name: String

    /// One kernel parameter, passed by value.
    public enum Argument: Sendable {
        case pointer(CUdeviceptr)
        case int32(Int32)
        case int64(Int64)
        case float(Float)
        /// A C struct passed by value, as its bytes (little-endian, laid out as the kernel declares it).
        case structure([UInt8])

        /// The value's bytes (little-endian), as the kernel receives them.
        public var bytes: [UInt8] {
            func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] { (0..<MemoryLayout<T>.size).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
            switch self {
            case let .pointer(p): return le(p)
            case let .int32(v): return le(v)
            case let .int64(v): return le(v)
            case let .float(v): return le(v.bitPattern)
            case let .structure(b): return b
            }
        }
    }

    /// Lets the kernel use up to `bytes` of dynamic shared memory (needed above 48 KiB).
    public func allowSharedMemory(bytes: Int) throws(CUDAError) {
        try context.makeCurrent()
        try context.driver.check(
            context.driver.cuFuncSetAttribute(function, Int32(DNLS_CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES),
                                              Int32(bytes)), "cuFuncSetAttribute(\(name))")
    }

    /// Launches the kernel on `stream` (the default stream when `nil`).
    public func launch(grid: (Int, Int, Int), block: (Int, Int, Int), sharedBytes: Int = 0,
                       stream: CUDAStream? = nil, arguments: [Argument]) throws(CUDAError) {
        guard grid.0 > 0, grid.1 > 0, grid.2 > 0, grid.0 < (1 << 31), grid.1 < 65536, grid.2 < 65536 else {
            throw .invalidArgument("kernel \(name): grid \(grid) outside the device's limits")
        }
        guard block.0 > 0, block.1 > 0, block.2 > 0, block.0 * block.1 * block.2 <= 1024,
              sharedBytes >= 0, sharedBytes <= Int(UInt32.max) else {
            throw .invalidArgument("kernel \(name): block \(block) or shared memory \(sharedBytes) bytes outside the device's limits")
        }
        try context.makeCurrent()
        // Each argument in its own 16-byte-aligned slot of one buffer; the driver reads each through
        // its pointer with the size the kernel declares.
        let values = arguments.map(\.bytes)
        var offsets: [Int] = [], total = 0
        for v in values { offsets.append(total); total += (max(v.count, 1) + 15) / 16 * 16 }
        let storage = UnsafeMutableRawPointer.allocate(byteCount: max(total, 16), alignment: 16)
        defer { storage.deallocate() }
        // Zeroed, so the padding of a slot is never stale heap bytes (the fake driver reads 8 per slot).
        storage.initializeMemory(as: UInt8.self, repeating: 0, count: max(total, 16))
        for (v, o) in zip(values, offsets) where !v.isEmpty { v.withUnsafeBytes { (storage + o).copyMemory(from: $0.baseAddress!, byteCount: v.count) } }
        var pointers: [UnsafeMutableRawPointer?] = offsets.map { storage + $0 }
        let result: CUresult = pointers.withUnsafeMutableBufferPointer { p in
            context.driver.cuLaunchKernel(function, UInt32(grid.0), UInt32(grid.1), UInt32(grid.2),
                                          UInt32(block.0), UInt32(block.1), UInt32(block.2),
                                          UInt32(sharedBytes), stream?.handle, p.baseAddress, nil)
        }
        try context.driver.check(result, "cuLaunchKernel(\(name))")
    }
}
