import Synchronization

/// First-fit sub-allocation of one region of device memory: the temporaries of operations run in
/// a caller's workspace (``withWorkspace(_:_:)``), or the count of what they would need
/// (``GPUWorkspace/bytesNeeded(on:for:)``).
///
/// Blocks start at multiples of ``GPUWorkspace/alignment`` from the region's start. A freed block
/// is reused by the next allocation that fits, exactly as in the planning run, so the planned
/// high-water mark is what the real run needs: both see the same sequence of allocations and
/// frees, which depends only on the shapes and parameters of the calls.
final class WorkspaceArena: Sendable {
    /// Device address of the region's first byte (0 in a planning run, which touches no memory).
    let base: UInt64
    /// Bytes in the region (`Int.max` in a planning run).
    let capacity: Int

    private struct State {
        /// Live blocks, sorted by offset.
        var blocks: [(offset: Int, bytes: Int)] = []
        /// The largest end offset any block has had.
        var highWater = 0
    }

    private let state = Mutex(State())

    init(base: UInt64, capacity: Int) {
        self.base = base
        self.capacity = capacity
    }

    /// The offset of a new block of `bytes` (rounded up to the alignment), or `nil` when no gap
    /// of the region holds it.
    func allocate(_ bytes: Int) -> Int? {
        let alignment = GPUWorkspace.alignment
        guard bytes <= Int.max - alignment else { return nil }
        let need = max(alignment, (bytes + alignment - 1) / alignment * alignment)
        return state.withLock { state -> Int? in
            var start = 0, slot = state.blocks.count
            for (i, block) in state.blocks.enumerated() {
                if block.offset - start >= need { slot = i; break }
                start = block.offset + block.bytes
            }
            guard capacity - start >= need else { return nil }
            state.blocks.insert((start, need), at: slot)
            state.highWater = max(state.highWater, start + need)
            return start
        }
    }

    /// Returns the block at `offset` to the region.
    func release(_ offset: Int) {
        state.withLock { state in
            if let i = state.blocks.firstIndex(where: { $0.offset == offset }) { state.blocks.remove(at: i) }
        }
    }

    /// The most bytes of the region in use at once, counted from its start.
    var highWater: Int { state.withLock { $0.highWater } }
}

/// A block of a ``WorkspaceArena``, returned to it when the tensor storage holding it goes away.
final class ArenaLease: Sendable {
    let arena: WorkspaceArena
    let offset: Int

    init(arena: WorkspaceArena, offset: Int) {
        self.arena = arena
        self.offset = offset
    }

    deinit { arena.release(offset) }
}

/// Where the temporaries of GPU operations on one device come from, set by
/// ``withWorkspace(_:_:)`` and ``GPUWorkspace/bytesNeeded(on:for:)`` for the calling task.
struct MemoryScope: Sendable {
    let device: Device
    let arena: WorkspaceArena
    /// A planning run: operations allocate nothing, launch nothing and copy nothing; they only
    /// count the workspace they would use.
    let planning: Bool

    @TaskLocal static var current: MemoryScope?
}

extension Device {
    /// The memory scope of this device's operations now, if any.
    var memoryScope: MemoryScope? {
        guard let scope = MemoryScope.current, scope.device == self else { return nil }
        return scope
    }

    /// Whether this device's operations are being planned (counted, not run).
    var isPlanning: Bool { memoryScope?.planning ?? false }
}
