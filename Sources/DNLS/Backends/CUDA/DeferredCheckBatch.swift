internal import CDNLSKernels
import CUDADriver
import Synchronization

/// The small deferred input checks of one operation, queued as one launch.
///
/// Under deferred checking a check of a small tensor is one launch of one block that writes its
/// failure into the stream's failure record. An operation that checks an index tensor and a
/// weight tensor would launch twice; within ``batchingInputChecks(_:)`` the checks are gathered
/// instead and queued together, in their order, when the validation ends (one `record_checks`
/// launch). The record keeps the first failure, so the error reported is the same either way.
final class DeferredCheckBatch: Sendable {
    private struct Pending {
        var backend: CUDABackend?
        var checks: [DNLSCheckEntry] = []
    }

    private let pending = Mutex(Pending())

    @TaskLocal static var current: DeferredCheckBatch?

    /// Takes `check` for `backend`'s stream, unless the batch is full or holds checks of another
    /// device or stream (the caller then launches it alone).
    func add(_ check: DNLSCheckEntry, for backend: CUDABackend) -> Bool {
        pending.withLock { p in
            if let held = p.backend, held.runtime !== backend.runtime || held.stream !== backend.stream { return false }
            guard p.checks.count < Int(DNLS_BATCHED_CHECKS) else { return false }
            p.backend = backend
            p.checks.append(check)
            return true
        }
    }

    /// Queues the gathered checks (if any) as one launch, and empties the batch.
    func flush() throws(DNLSError) {
        let (backend, checks) = pending.withLock { p in
            defer { p = Pending() }
            return (p.backend, p.checks)
        }
        guard let backend, !checks.isEmpty else { return }
        try backend.recordChecks(checks)
    }
}

/// Runs `body` (an operation's input validation) with its small deferred device checks gathered
/// and queued as one launch at the end, also when `body` throws (the checks it made before then
/// are queued as they would have been; `body`'s error is the one thrown).
func batchingInputChecks<R>(_ body: () throws(DNLSError) -> R) throws(DNLSError) -> R {
    if DeferredCheckBatch.current != nil { return try body() }  // an enclosing batch gathers them
    let batch = DeferredCheckBatch()
    let result: Result<R, DNLSError> = DeferredCheckBatch.$current.withValue(batch) {
        do throws(DNLSError) { return .success(try body()) } catch { return .failure(error) }
    }
    do throws(DNLSError) {
        try batch.flush()
    } catch {
        if case .success = result { throw error }
    }
    return try result.get()
}
