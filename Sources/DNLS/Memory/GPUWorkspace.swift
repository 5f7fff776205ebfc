import CUDADriver

/// Device memory that a caller lends DNLS for the temporaries of its GPU operations, so that the
/// caller's allocator (a host framework's caching allocator, say) owns all the memory a call uses.
///
/// Size it with ``bytesNeeded(on:for:)``, allocate it, and run the operations inside
/// ``withWorkspace(_:_:)``; give the outputs too, with the operations' `into:` forms and
/// ``Tensor/init(unsafeDeviceAddress:shape:on:)``, and the operations allocate no device memory of
/// their own. What they need beyond inputs and outputs stays within 64 MiB whatever the size of the
/// video: the operations split large work into passes instead.
///
/// ```swift
/// let bytes = try GPUWorkspace.bytesNeeded(on: gpu) { () throws(DNLSError) in
///     _ = try search(video, queries: .grid(grid))
/// }
/// // … the caller allocates `bytes` at `address`, 256-byte aligned …
/// let workspace = try GPUWorkspace(unsafeAddress: address, byteCount: bytes, on: gpu)
/// let found = try withWorkspace(workspace) { () throws(DNLSError) in try search(video, queries: .grid(grid)) }
/// ```
///
/// The workspace is used on the stream of the calling scope (``withStream(_:checking:_:)``);
/// successive operations reuse it in stream order, so the caller may reuse or free it once the
/// work queued on that stream has run. The caller keeps it alive until then.
///
/// Two kinds of small table stay DNLS's own: the geometry blocks the kernels read (12 × (H + W)
/// bytes and a little more per geometry, window and frame size, made on first use and kept) and
/// the per-device failure record of deferred checking.
public struct GPUWorkspace: Sendable, Hashable {
    /// The GPU the memory is on.
    public let device: Device
    /// Device address of the first byte.
    public let unsafeAddress: UInt
    /// Size in bytes.
    public let byteCount: Int

    /// The alignment of a workspace's address and of every block DNLS carves from it, in bytes.
    public static let alignment = 256

    /// A workspace of `byteCount` bytes at device address `unsafeAddress` on `device`.
    ///
    /// DNLS cannot check that the memory exists: giving an address that is not `byteCount` bytes
    /// of live memory on `device` is undefined behaviour, as for any raw pointer.
    /// - Throws: ``DNLSError/invalidArgument(argument:expected:actual:)`` for the CPU, a negative
    ///   size or an address that is not a multiple of ``alignment``.
    public init(unsafeAddress: UInt, byteCount: Int, on device: Device) throws(DNLSError) {
        guard case .cuda = device else {
            throw .invalidArgument(argument: "device", expected: "a GPU (.cuda(n)) for a workspace", actual: "\(device)")
        }
        guard byteCount >= 0 else {
            throw .invalidArgument(argument: "byteCount", expected: "a non-negative size", actual: "\(byteCount)")
        }
        guard unsafeAddress % UInt(Self.alignment) == 0 else {
            throw .invalidArgument(argument: "unsafeAddress", expected: "a multiple of \(Self.alignment)",
                                   actual: "0x" + String(unsafeAddress, radix: 16))
        }
        self.device = device
        self.unsafeAddress = unsafeAddress
        self.byteCount = byteCount
    }

    /// The bytes of workspace that the GPU operations `body` calls on `device` need, found by a
    /// planning run: `body` runs, but its operations on `device` only check their arguments and
    /// count the temporaries they would allocate; they launch no kernel, copy nothing and allocate
    /// no memory. Zero for the CPU.
    ///
    /// The answer depends only on the shapes, parameters, devices and checking mode of the calls,
    /// so plan with the same ones as the real run (under the same ``withStream(_:checking:_:)``).
    /// The tensors `body` gets back from those operations are placeholders whose contents are
    /// undefined: use them only as arguments of further planned calls. The inputs may be
    /// placeholders too (``Tensor/init(unsafeDeviceAddress:shape:on:)`` at any address): nothing
    /// reads them.
    /// - Throws: what the operations' argument checks throw.
    public static func bytesNeeded(on device: Device, for body: () throws(DNLSError) -> Void) throws(DNLSError) -> Int {
        guard case .cuda = device else { return 0 }
        let arena = WorkspaceArena(base: 0, capacity: .max)
        try MemoryScope.run(MemoryScope(device: device, arena: arena, planning: true), body)
        return arena.highWater
    }
}

/// Runs `body` with every temporary of the GPU operations on `workspace.device` carved from
/// `workspace` instead of allocated. Outputs the operations allocate (calls without `into:`) still
/// come from DNLS's memory pool: they outlive the call, the workspace's blocks do not.
///
/// The scope belongs to the calling task (or thread) and nests: the innermost one wins.
/// - Throws: whatever `body` throws, and ``DNLSError/workspaceTooSmall(device:bytes:capacity:)``
///   from an operation whose temporaries do not fit.
public func withWorkspace<R>(_ workspace: GPUWorkspace, _ body: () throws(DNLSError) -> R) throws(DNLSError) -> R {
    let arena = WorkspaceArena(base: UInt64(workspace.unsafeAddress), capacity: workspace.byteCount)
    return try MemoryScope.run(MemoryScope(device: workspace.device, arena: arena, planning: false), body)
}

extension MemoryScope {
    static func run<R>(_ scope: MemoryScope, _ body: () throws(DNLSError) -> R) throws(DNLSError) -> R {
        try $current.binding(scope, body)
    }

    /// Runs `body` outside every memory scope (for what DNLS keeps across calls).
    static func outside<R>(_ body: () throws(DNLSError) -> R) throws(DNLSError) -> R {
        guard current != nil else { return try body() }
        return try $current.binding(nil, body)
    }

    /// A block of `bytes` for a temporary, as tensor storage that returns it when released.
    func storage(bytes: Int) throws(DNLSError) -> DeviceStorage {
        guard case let .cuda(ordinal) = device else { preconditionFailure("a memory scope is for a GPU") }
        guard let offset = arena.allocate(bytes) else {
            throw .workspaceTooSmall(device: device, bytes: bytes, capacity: arena.capacity)
        }
        let context = try CUDARuntime.shared(ordinal: ordinal).context
        return DeviceStorage(DeviceBuffer(borrowing: arena.base + UInt64(offset), byteCount: bytes, context: context),
                             lease: ArenaLease(arena: arena, offset: offset))
    }
}
