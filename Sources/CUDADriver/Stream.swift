import CCUDA

/// A CUDA stream: one DNLS created (destroyed with its last reference) or one someone else owns
/// (borrowed: never destroyed here). `nil` wherever a `CUDAStream?` is taken means the legacy
/// default stream.
package final class CUDAStream: @unchecked Sendable {
    /// The context the stream belongs to.
    package let context: CUDAContext
    /// The driver's handle.
    package let handle: CUstream
    /// Whether DNLS created the stream and destroys it.
    package let isOwned: Bool

    /// Creates a stream on `context` (flags 0: it synchronises with the legacy default stream).
    package init(context: CUDAContext) throws(CUDAError) {
        try context.makeCurrent()
        var stream: CUstream? = nil
        try context.driver.check(context.driver.cuStreamCreate(&stream, 0), "cuStreamCreate")
        guard let stream else { throw .invalidArgument("cuStreamCreate returned no stream") }
        self.context = context
        handle = stream
        isOwned = true
    }

    /// Wraps a stream someone else created on `context` (for example a PyTorch stream); its owner
    /// keeps it alive while work queued here runs.
    package init(borrowing handle: CUstream, context: CUDAContext) {
        self.context = context
        self.handle = handle
        isOwned = false
    }

    deinit {
        if isOwned, (try? context.makeCurrent()) != nil { _ = context.driver.cuStreamDestroy(handle) }
    }

    /// Waits for the stream's work to finish.
    package func synchronize() throws(CUDAError) {
        try context.makeCurrent()
        try context.driver.check(context.driver.cuStreamSynchronize(handle), "cuStreamSynchronize")
    }
}

extension CUDAContext {
    /// Waits for the work queued on `stream` (the legacy default stream when `nil`) to finish.
    package func synchronize(_ stream: CUDAStream?) throws(CUDAError) {
        try makeCurrent()
        try driver.check(driver.cuStreamSynchronize(stream?.handle), "cuStreamSynchronize")
    }

    /// Makes later work on `stream` wait, on the device, until `event` has happened; the host does
    /// not wait.
    package func wait(for event: CUDAEvent, on stream: CUDAStream?) throws(CUDAError) {
        try makeCurrent()
        try driver.check(driver.cuStreamWaitEvent(stream?.handle, event.handle, 0), "cuStreamWaitEvent")
    }

    /// Whether `stream` is capturing a CUDA graph now (for instance inside PyTorch's
    /// `torch.cuda.graph`). While it is, the driver refuses host-side queries such as
    /// `cuEventQuery`, and waits on events recorded outside the capture must be external.
    package func isCapturing(_ stream: CUDAStream?) throws(CUDAError) -> Bool {
        guard let query = driver.cuStreamIsCapturing else { return false }
        try makeCurrent()
        var status: Int32 = 0
        try driver.check(query(stream?.handle, &status), "cuStreamIsCapturing")
        return status != 0
    }

    /// Makes a graph being captured on `stream` wait for `event`, recorded before the capture
    /// began, as an external event node: every replay waits for it on the device.
    package func waitInCapture(for event: CUDAEvent, on stream: CUDAStream?) throws(CUDAError) {
        try makeCurrent()
        // CU_EVENT_WAIT_EXTERNAL = 1.
        try driver.check(driver.cuStreamWaitEvent(stream?.handle, event.handle, 1), "cuStreamWaitEvent")
    }
}

/// A CUDA event, for timing work on a stream.
package final class CUDAEvent: @unchecked Sendable {
    /// The context the event belongs to.
    package let context: CUDAContext
    /// The driver's handle.
    package let handle: CUevent

    /// Creates an event on `context`.
    package init(context: CUDAContext) throws(CUDAError) {
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
    package func record(on stream: CUDAStream? = nil) throws(CUDAError) {
        try context.makeCurrent()
        try context.driver.check(context.driver.cuEventRecord(handle, stream?.handle), "cuEventRecord")
    }

    /// Whether the work before the event's last ``record(on:)`` has finished (asks the driver; never
    /// waits).
    package func hasCompleted() throws(CUDAError) -> Bool {
        try context.makeCurrent()
        let result = context.driver.cuEventQuery(handle)
        if result == DNLS_CUDA_ERROR_NOT_READY { return false }
        try context.driver.check(result, "cuEventQuery")
        return true
    }

    /// Milliseconds between `start` and this event, after both have completed.
    package func milliseconds(since start: CUDAEvent) throws(CUDAError) -> Float {
        try context.makeCurrent()
        try context.driver.check(context.driver.cuEventSynchronize(handle), "cuEventSynchronize")
        var ms: Float = 0
        try context.driver.check(context.driver.cuEventElapsedTime(&ms, start.handle, handle), "cuEventElapsedTime")
        return ms
    }
}
