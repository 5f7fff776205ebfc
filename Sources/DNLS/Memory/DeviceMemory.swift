import CUDADriver

/// Device memory in use by DNLS's allocations on a GPU, in bytes.
public struct DeviceMemoryUsage: Sendable, Hashable {
    /// Where the figures come from.
    public enum Source: String, Sendable, Hashable {
        /// DNLS's own memory pool on the device (`CU_MEMPOOL_ATTR_USED_MEM_CURRENT` / `USED_MEM_HIGH`),
        /// which every tensor's memory comes from where the device supports pools.
        case memoryPool = "memory pool"
        /// DNLS's own count of its live device buffers (devices or drivers without memory pools).
        case allocationCounter = "allocation counter"
    }

    /// Bytes in use now.
    public var current: Int
    /// The most bytes in use at once since the last ``Device/resetPeakMemoryUsage()``.
    public var peak: Int
    /// Where ``current`` and ``peak`` come from.
    public var source: Source
    /// Total device memory, in bytes.
    public var total: Int

    /// Creates a usage record (for tests and tools that build their own).
    public init(current: Int, peak: Int, source: Source, total: Int) {
        self.current = current; self.peak = peak; self.source = source; self.total = total
    }
}

extension Device {
    /// Device memory in use by DNLS on this GPU and its peak since the last
    /// ``resetPeakMemoryUsage()``, or `nil` on the CPU (host memory is not tracked).
    ///
    /// Waits for the device first, so that every free queued so far is counted. Memory a freed
    /// tensor left in the pool for reuse is not in use.
    /// - Throws: ``DNLSError/unavailable(what:reason:)`` when the GPU cannot be opened,
    ///   ``DNLSError/deviceFailure(device:reason:)`` when the driver fails to answer.
    public func memoryUsage() throws(DNLSError) -> DeviceMemoryUsage? {
        guard case let .cuda(ordinal) = self else { return nil }
        let context = try CUDARuntime.shared(ordinal: ordinal).context
        return try DNLS.cuda(self) { () throws(CUDAError) in
            try context.synchronize()
            let inUse = try context.memoryInUse()
            return DeviceMemoryUsage(current: inUse.current, peak: inUse.peak,
                                     source: context.usesMemoryPool ? .memoryPool : .allocationCounter,
                                     total: try context.memoryInfo().total)
        }
    }

    /// Starts a new peak of device memory in use: afterwards ``memoryUsage()``'s `peak` is the most
    /// in use since this call. Returns the usage right after the reset (`peak == current`), or
    /// `nil` on the CPU, where there is nothing to reset.
    ///
    /// To measure what an operation needs beyond its inputs: reset, run it, and subtract the
    /// returned `current` from the `peak` read after it.
    /// - Throws: as ``memoryUsage()``.
    @discardableResult
    public func resetPeakMemoryUsage() throws(DNLSError) -> DeviceMemoryUsage? {
        guard case let .cuda(ordinal) = self else { return nil }
        let context = try CUDARuntime.shared(ordinal: ordinal).context
        try DNLS.cuda(self) { () throws(CUDAError) in
            try context.synchronize()
            try context.resetPeakMemoryInUse()
        }
        return try memoryUsage()
    }

    /// Milliseconds this device spends on the work `body` queues.
    ///
    /// On a GPU: the time between two CUDA events recorded on the calling scope's stream (the
    /// legacy default stream outside ``withStream(_:checking:_:)``) before and after `body`, waited for; host work inside `body` counts only
    /// where the GPU sits idle waiting for it. On the CPU, whose operations return only when done:
    /// the wall-clock time of `body` on the monotonic `ContinuousClock`.
    /// - Throws: whatever `body` throws, or the device's failure to record or time the events.
    public func elapsedMilliseconds(_ body: () throws(DNLSError) -> Void) throws(DNLSError) -> Double {
        guard case let .cuda(ordinal) = self else {
            let clock = ContinuousClock()
            let start = clock.now
            try body()
            let (seconds, attoseconds) = (clock.now - start).components
            return Double(seconds) * 1e3 + Double(attoseconds) * 1e-15
        }
        let context = try CUDARuntime.shared(ordinal: ordinal).context
        let (start, end) = try DNLS.cuda(self) { () throws(CUDAError) in (try CUDAEvent(context: context), try CUDAEvent(context: context)) }
        let stream = currentStream
        try DNLS.cuda(self) { () throws(CUDAError) in try start.record(on: stream) }
        try body()
        return try DNLS.cuda(self) { () throws(CUDAError) in
            try end.record(on: stream)
            return Double(try end.milliseconds(since: start))
        }
    }
}
