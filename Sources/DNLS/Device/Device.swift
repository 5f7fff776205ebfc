import CUDADriver

/// Where a tensor's storage lives and where operations on it run.
public enum Device: Sendable, Hashable, CustomStringConvertible {
    /// Host memory; operations run on the CPU backends.
    case cpu
    /// The NVIDIA GPU with the given ordinal; operations run on the CUDA backend.
    case cuda(Int)

    /// `cpu` or `cuda(n)`.
    public var description: String {
        switch self {
        case .cpu: return "cpu"
        case let .cuda(ordinal): return "cuda(\(ordinal))"
        }
    }
}

// The public API of a device, in one place: whether it can run operations, what it is, waiting
// for it, its memory use and timing on it.
extension Device {
    /// Checks that operations can run here: for `.cuda(n)` the driver must load, GPU `n` must
    /// exist and NVRTC must compile the kernels. The error names what is missing and where it was
    /// looked for. `.cpu` is always available.
    public func checkAvailable() throws(DNLSError) {
        guard case let .cuda(ordinal) = self else { return }
        _ = try CUDARuntime.shared(ordinal: ordinal).kernel(.extractPatches)
    }

    /// A one-line description of the GPU (name, compute capability, driver version), or `nil`
    /// for the CPU or a GPU that cannot be opened.
    public var gpuDescription: String? {
        guard case let .cuda(ordinal) = self, let runtime = try? CUDARuntime.shared(ordinal: ordinal) else { return nil }
        let c = runtime.context
        return "\(c.name), compute capability \(c.computeCapability.major).\(c.computeCapability.minor), "
            + "\(c.multiprocessors) SMs, driver \(c.driverVersion / 1000).\(c.driverVersion % 1000 / 10)"
    }

    /// Waits until all work queued on this device, on every stream, has finished (a no-op on the
    /// CPU, whose operations return only when done), then throws the first input failure that an
    /// ``InputChecking/deferred`` call recorded on the device since the last synchronisation, if
    /// any (and clears it). Use it before reading a host clock.
    /// - Throws: that failure, as the call would have thrown it eagerly, or
    ///   ``DNLSError/deviceFailure(device:reason:)`` when the device fails.
    public func synchronize() throws(DNLSError) {
        guard case let .cuda(ordinal) = self else { return }
        let runtime = try CUDARuntime.shared(ordinal: ordinal)
        try DNLS.cuda(self) { () throws(CUDAError) in try runtime.context.synchronize() }
        if let failure = try runtime.takeDeferredFailure(on: currentStream) { throw failure }
    }

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
