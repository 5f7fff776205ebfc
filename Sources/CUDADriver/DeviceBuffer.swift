import CCUDA

/// Device memory that frees itself: a move-only owner of one allocation.
///
/// Where the device has memory pools, the memory comes from its default pool with `cuMemAllocAsync`
/// and goes back with `cuMemFreeAsync`, both on the legacy default stream (stream 0) that every
/// kernel and copy of DNLS uses, so a free neither synchronises the device (as `cuMemFree` does)
/// nor gives the memory back to the OS: the next allocation reuses it. Elsewhere it falls back to
/// `cuMemAlloc`/`cuMemFree`. Either way the context's ``CUDAContext/allocations`` counts it.
public struct DeviceBuffer: ~Copyable, @unchecked Sendable {
    /// The context the memory belongs to.
    public let context: CUDAContext
    /// Device address of the first byte.
    public let address: CUdeviceptr
    /// Size in bytes.
    public let byteCount: Int
    /// Whether the memory came from the default pool (and goes back with `cuMemFreeAsync`).
    public let isPooled: Bool

    /// Allocates `byteCount` bytes (at least one, so that every buffer has an address).
    public init(context: CUDAContext, byteCount: Int) throws(CUDAError) {
        guard byteCount >= 0 else { throw .invalidArgument("negative allocation size \(byteCount)") }
        try context.makeCurrent()
        var address: CUdeviceptr = 0
        let bytes = max(byteCount, 1)
        if context.memoryPool != nil, let allocAsync = context.driver.cuMemAllocAsync {
            // nil stream: the legacy default stream, which orders it before every later kernel and copy.
            try context.driver.check(allocAsync(&address, bytes, nil), "cuMemAllocAsync(\(byteCount) bytes)")
            isPooled = true
        } else {
            try context.driver.check(context.driver.cuMemAlloc(&address, bytes), "cuMemAlloc(\(byteCount) bytes)")
            isPooled = false
        }
        self.context = context
        self.address = address
        self.byteCount = byteCount
        context.allocations.allocated(byteCount)
    }

    deinit {
        context.allocations.freed(byteCount)
        guard (try? context.makeCurrent()) != nil else { return }
        if isPooled, let freeAsync = context.driver.cuMemFreeAsync {
            _ = freeAsync(address, nil)
        } else {
            _ = context.driver.cuMemFree(address)
        }
    }

    /// Copies host bytes into the start of the buffer.
    public func upload(_ bytes: UnsafeRawBufferPointer) throws(CUDAError) {
        guard bytes.count <= byteCount else { throw .invalidArgument("upload of \(bytes.count) bytes into \(byteCount)") }
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        try context.makeCurrent()
        try context.driver.check(context.driver.cuMemcpyHtoD(address, base, bytes.count), "cuMemcpyHtoD")
    }

    /// Copies the start of the buffer into host memory.
    public func download(into bytes: UnsafeMutableRawBufferPointer) throws(CUDAError) {
        guard bytes.count <= byteCount else { throw .invalidArgument("download of \(bytes.count) bytes from \(byteCount)") }
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        try context.makeCurrent()
        try context.driver.check(context.driver.cuMemcpyDtoH(base, address, bytes.count), "cuMemcpyDtoH")
    }

    /// Copies the start of another device buffer into the start of this one.
    public func copy(from source: borrowing DeviceBuffer) throws(CUDAError) {
        let bytes = min(byteCount, source.byteCount)
        guard bytes > 0 else { return }
        try context.makeCurrent()
        try context.driver.check(context.driver.cuMemcpyDtoD(address, source.address, bytes), "cuMemcpyDtoD")
    }

    /// Fills the buffer with a 32-bit pattern (e.g. a NaN to poison outputs, or zero).
    public func fill(pattern: UInt32) throws(CUDAError) {
        guard byteCount >= 4 else { return }
        try context.makeCurrent()
        try context.driver.check(context.driver.cuMemsetD32(address, pattern, byteCount / 4), "cuMemsetD32")
    }
}
