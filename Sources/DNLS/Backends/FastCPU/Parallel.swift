import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Number of CPUs online, read once.
let fastCPUCount: Int = {
    #if canImport(Glibc) || canImport(Musl) || canImport(Darwin)
    let n = sysconf(Int32(_SC_NPROCESSORS_ONLN))
    return n > 0 ? Int(n) : 1
    #else
    return 1
    #endif
}()

/// Runs `body(i)` for every `i` in `0..<count`, on all cores when `count > 1`.
///
/// Contract: tasks write disjoint elements — no element of any output is written by two tasks —
/// and read only memory that no task writes. Results then do not depend on scheduling.
@inline(__always)
func fastParallelFor(_ count: Int, _ body: (Int) -> Void) {
    if count <= 0 { return }
    if count == 1 || fastCPUCount == 1 {
        for i in 0..<count { body(i) }
        return
    }
    withoutActuallyEscaping(body) { body in
        let task = UncheckedSendable(body)
        DispatchQueue.concurrentPerform(iterations: count) { task.value($0) }
    }
}

/// How the fast kernels split their work. Results never depend on it (every kernel is
/// bit-identical to the serial reference); tests shrink it to exercise the parallel paths on
/// small inputs.
struct FastTuning: Sendable, Hashable {
    /// Below this many units of work (multiply-adds or copies) a kernel runs as one task.
    var minimumParallelWork: Int = 65_536
    /// Tasks to aim for when the work is large: a few per core, for load balance.
    var tasks: Int = 4 * fastCPUCount
}

/// Splits `0..<count` into contiguous chunks (at most `tuning.tasks`, none with less than half of
/// `tuning.minimumParallelWork`, given `work` units per item) and runs `body` on each in parallel.
@inline(__always)
func fastParallelChunks(_ count: Int, work: Int, tuning: FastTuning, _ body: (Range<Int>) -> Void) {
    if count <= 0 { return }
    let total = count &* max(1, work)
    let chunks = max(1, min(count, tuning.tasks, total / max(1, tuning.minimumParallelWork / 2)))
    let size = (count + chunks - 1) / chunks
    let n = (count + size - 1) / size
    fastParallelFor(n) { j in
        let lo = j &* size
        body(lo..<min(count, lo &+ size))
    }
}
