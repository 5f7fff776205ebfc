import CCUDA

/// A CUDA stream; destroyed with its last reference.
public final class CUDAStream: @unchecked Sendable {
    /// The context the stream belongs to.
    public let context: CUDAContext
    /// The driver's handle.
    public let handle: CUstream

    /// Creates a stream on `context`.
    public init(context: CUDAContext) throws(CUDAError) {
        try context.makeCurrent()
        var stream: CUstream? = nil
        try context.driver.check(context.driver.cuStreamCreate(&stream, 0), "cuStreamCreate")
        guard let stream else { throw .invalidArgument("cuStreamCreate returned no stream") }
        self.context = context
        handle = stream
    }

    deinit {
        if (try? context.makeCurrent()) != nil { _ = context.driver.cuStreamDestroy(handle) }
    }

    /// Waits for the stream's work to finish.
    public func synchronize() throws(CUDAError) {
        try context.makeCurrent()
        try context.driver.check(context.driver.cuStreamSynchronize(handle), "cuStreamSynchronize")
    }
}

/// A CUDA event, for timing work on a stream.
public final class CUDAEvent: @unchecked Sendable {
    /// The context the event belongs to.
    public let context: CUDAContext
    /// The driver's handle.
    public let handle: CUevent

    /// Creates an event on `context`.
    public init(context: CUDAContext) throws(CUDAError) {
        try context.makeCurrent()
        var event: CUevent? = nil
        try context.driver.check(context.driver.cuEventCreate(&event, 0), "cuEventCreate")
        guard let event else { throw .invalidArgument("cuEventCreate returned no event") }
        self.context = context
        handle = event
    }

    deinit {
        if (try? context.makeCurrent()) != nil { _ = context.driver.cuEventDestroy(handle) }
    }

    /// Records the event on `stream` (the default stream when `nil`).
    public func record(on stream: CUDAStream? = nil) throws(CUDAError) {
        try context.makeCurrent()
        try context.driver.check(context.driver.cuEventRecord(handle, stream?.handle), "cuEventRecord")
    }

    /// Milliseconds between `start` and this event, after both have completed.
    public func milliseconds(since start: CUDAEvent) throws(CUDAError) -> Float {
        try context.makeCurrent()
        try context.driver.check(context.driver.cuEventSynchronize(handle), "cuEventSynchronize")
        var ms: Float = 0
        try context.driver.check(context.driver.cuEventElapsedTime(&ms, start.handle, handle), "cuEventElapsedTime")
        return ms
    }
}
