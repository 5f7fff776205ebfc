import CCUDA

/// Device memory that frees itself: a move-only owner of one `cuMemAlloc` allocation.
public struct DeviceBuffer: ~Copyable, @unchecked Sendable {
    /// The context the memory belongs to.
    public let context: CUDAContext
    /// Device address of the first byte.
    public let address: CUdeviceptr
    /// Size in bytes.
    public let byteCount: Int

    /// Allocates `byteCount` bytes (at least one, so that every buffer has an address).
    public init(context: CUDAContext, byteCount: Int) throws(CUDAError) {
        guard byteCount >= 0 else { throw .invalidArgument("negative allocation size \(byteCount)") }
        try context.makeCurrent()
        var address: CUdeviceptr = 0
        try context.driver.check(context.driver.cuMemAlloc(&address, max(byteCount, 1)), "cuMemAlloc(\(byteCount) bytes)")
        self.context = context
        self.address = address
        self.byteCount = byteCount
    }

    deinit {
        if (try? context.makeCurrent()) != nil { _ = context.driver.cuMemFree(address) }
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
