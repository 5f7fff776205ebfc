import CCUDA

/// Device memory that frees itself: a move-only owner of one allocation.
///
/// Where the device has memory pools, the memory comes from the context's own pool
/// (``CUDAContext/usesMemoryPool``) with `cuMemAllocFromPoolAsync` on the stream the buffer is made
/// for, and goes back with `cuMemFreeAsync` on that same stream, so a free neither synchronises
/// the device (as `cuMemFree` does) nor gives the memory back to the OS: the next allocation reuses
/// it. Elsewhere it falls back to `cuMemAlloc`/`cuMemFree`. Either way the context's
/// ``CUDAContext/allocations`` counts it. Every copy and fill is stream-ordered; none waits for the
/// host except ``download(into:on:)``, whose caller asks for the bytes.
package struct DeviceBuffer: ~Copyable, @unchecked Sendable {
    /// The context the memory belongs to.
    package let context: CUDAContext
    /// Device address of the first byte.
    package let address: CUdeviceptr
    /// Size in bytes.
    package let byteCount: Int
    /// Whether the memory came from the context's pool (and goes back with `cuMemFreeAsync`).
    package let isPooled: Bool
    /// Whether the memory belongs to someone else (``init(borrowing:byteCount:context:)``): never
    /// freed or counted here.
    package let isBorrowed: Bool
    /// The stream the memory was allocated on and is freed on (`nil`: the legacy default stream).
    /// Holding it keeps a stream DNLS created alive until its last buffer is freed.
    package let stream: CUDAStream?

    /// Allocates `byteCount` bytes (at least one, so that every buffer has an address), ordered on
    /// `stream` (the legacy default stream when `nil`).
    /// - Throws: ``CUDAError/outOfMemory(bytes:)`` when the device has no room for it.
    package init(context: CUDAContext, byteCount: Int, stream: CUDAStream? = nil) throws(CUDAError) {
        guard byteCount >= 0 else { throw .invalidArgument("negative allocation size \(byteCount)") }
        try context.makeCurrent()
        var address: CUdeviceptr = 0
        let bytes = max(byteCount, 1)
        let result: CUresult, pooled: Bool
        if let pool = context.memoryPool, let allocate = context.driver.cuMemAllocFromPoolAsync {
            result = allocate(&address, bytes, pool, stream?.handle)
            pooled = true
        } else {
            result = context.driver.cuMemAlloc(&address, bytes)
            pooled = false
        }
        if result == DNLS_CUDA_ERROR_OUT_OF_MEMORY { throw .outOfMemory(bytes: byteCount) }
        try context.driver.check(result, pooled ? "cuMemAllocFromPoolAsync(\(byteCount) bytes)" : "cuMemAlloc(\(byteCount) bytes)")
        isPooled = pooled
        isBorrowed = false
        self.context = context
        self.address = address
        self.byteCount = byteCount
        self.stream = stream
        context.allocations.allocated(byteCount)
    }

    /// Memory that someone else allocated and frees (a host framework's tensor, a caller's
    /// workspace): the buffer reads and writes it but never frees it. The owner keeps it alive, and
    /// orders its reuse after the work queued on it, for as long as the buffer is in use.
    package init(borrowing address: CUdeviceptr, byteCount: Int, context: CUDAContext) {
        self.context = context
        self.address = address
        self.byteCount = max(0, byteCount)
        self.isPooled = false
        self.isBorrowed = true
        self.stream = nil
    }

    deinit {
        guard !isBorrowed else { return }
        context.allocations.freed(byteCount)
        guard (try? context.makeCurrent()) != nil else { return }
        if isPooled, let freeAsync = context.driver.cuMemFreeAsync {
            _ = freeAsync(address, stream?.handle)
        } else {
            _ = context.driver.cuMemFree(address)
        }
    }

    /// Queues a copy of host bytes into the start of the buffer on `stream`. The bytes may be
    /// released when this returns: the driver stages pageable memory before it does.
    package func upload(_ bytes: UnsafeRawBufferPointer, on stream: CUDAStream?) throws(CUDAError) {
        guard bytes.count <= byteCount else { throw .invalidArgument("upload of \(bytes.count) bytes into \(byteCount)") }
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        try context.makeCurrent()
        try context.driver.check(context.driver.cuMemcpyHtoDAsync(address, base, bytes.count, stream?.handle), "cuMemcpyHtoDAsync")
    }

    /// Copies the start of the buffer into host memory after the work queued on `stream` so far,
    /// and waits for it (the one call of this type that blocks the host).
    package func download(into bytes: UnsafeMutableRawBufferPointer, on stream: CUDAStream?) throws(CUDAError) {
        guard bytes.count <= byteCount else { throw .invalidArgument("download of \(bytes.count) bytes from \(byteCount)") }
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        try context.makeCurrent()
        try context.driver.check(context.driver.cuMemcpyDtoHAsync(base, address, bytes.count, stream?.handle), "cuMemcpyDtoHAsync")
        try context.driver.check(context.driver.cuStreamSynchronize(stream?.handle), "cuStreamSynchronize")
    }

    /// Queues a copy of the start of another device buffer into the start of this one on `stream`.
    package func copy(from source: borrowing DeviceBuffer, on stream: CUDAStream?) throws(CUDAError) {
        let bytes = min(byteCount, source.byteCount)
        guard bytes > 0 else { return }
        try context.makeCurrent()
        try context.driver.check(context.driver.cuMemcpyDtoDAsync(address, source.address, bytes, stream?.handle), "cuMemcpyDtoDAsync")
    }

    /// Queues a fill of the first `words` 32-bit words (all of them when `nil`) with `pattern` (a
    /// NaN to poison outputs, zero, all ones) on `stream`.
    package func fill(pattern: UInt32, words: Int? = nil, on stream: CUDAStream?) throws(CUDAError) {
        let count = min(words ?? byteCount / 4, byteCount / 4)
        guard count > 0 else { return }
        try context.makeCurrent()
        try context.driver.check(context.driver.cuMemsetD32Async(address, pattern, count, stream?.handle), "cuMemsetD32Async")
    }
}
