import CUDADriver

/// A CUDA stream that GPU operations can be queued on.
///
/// Outside ``withStream(_:checking:_:)`` every operation runs on the device's legacy default
/// stream, as ``default(on:)`` names it. Inside, every kernel launch, copy, fill, allocation and
/// free that an operation on the stream's device makes is queued on the stream, and a buffer is
/// freed on the stream it was allocated on.
///
/// ```swift
/// let stream = try GPUStream(on: .cuda(0))
/// let search = PatchSearch(geometry: PatchGeometry(patchSize: 7), window: SearchWindow(size: 21, temporalRadius: 2), k: 10)
/// let found = try withStream(stream, checking: .deferred) { () throws(DNLSError) in
///     try search(video, queries: .grid(grid))   // queued on `stream`; the host does not wait
/// }
/// try stream.synchronize()                      // waits, and throws a deferred input failure
/// ```
public struct GPUStream: Sendable, Hashable {
    /// The device whose work the stream orders.
    public let device: Device
    /// The stream itself; `nil` for the legacy default stream.
    let stream: CUDAStream?

    private init(device: Device, stream: CUDAStream?) {
        self.device = device
        self.stream = stream
    }

    /// The legacy default stream of `device` (the one every operation uses outside
    /// ``withStream(_:checking:_:)``). On the CPU, whose operations return when done, a stream
    /// orders nothing.
    public static func `default`(on device: Device) -> GPUStream {
        GPUStream(device: device, stream: nil)
    }

    /// A new stream on `device`, owned by DNLS and destroyed when the last copy of this value and
    /// the last buffer allocated on it are gone. It is a blocking stream: work on the legacy
    /// default stream waits for it, and it for that work.
    /// - Throws: ``DNLSError/invalidArgument(argument:expected:actual:)`` for `.cpu`,
    ///   ``DNLSError/unavailable(what:reason:)`` when the GPU cannot be opened.
    public init(on device: Device) throws(DNLSError) {
        let context = try Self.context(of: device)
        self.init(device: device, stream: try cuda(device) { () throws(CUDAError) in try CUDAStream(context: context) })
    }

    /// A stream that someone else created and owns on `device`, by its raw `CUstream` handle, for
    /// example PyTorch's `torch.cuda.current_stream().cuda_stream`; `0` is the legacy default
    /// stream. The owner must keep the stream alive while work or tensors made in its scope live.
    /// - Throws: as ``init(on:)``.
    public init(borrowing handle: UInt, on device: Device) throws(DNLSError) {
        let context = try Self.context(of: device)
        guard let raw = OpaquePointer(bitPattern: handle) else {
            self.init(device: device, stream: nil)
            return
        }
        self.init(device: device, stream: CUDAStream(borrowing: raw, context: context))
    }

    /// The raw `CUstream` handle (`0` for the legacy default stream).
    public var rawHandle: UInt { stream.map { UInt(bitPattern: Int(bitPattern: UnsafeRawPointer($0.handle))) } ?? 0 }

    /// Waits for the work queued on the stream so far, then throws the first input failure that a
    /// ``InputChecking/deferred`` call recorded on the device since the last synchronisation, if
    /// any (and clears it).
    /// - Throws: that failure (``DNLSError/outOfRange(argument:value:valid:)`` or
    ///   ``DNLSError/nonFinite(argument:position:)``, as the call would have thrown eagerly), or
    ///   ``DNLSError/deviceFailure(device:reason:)`` when the device fails.
    public func synchronize() throws(DNLSError) {
        guard case let .cuda(ordinal) = device else { return }
        let runtime = try CUDARuntime.shared(ordinal: ordinal)
        try cuda(device) { () throws(CUDAError) in try runtime.context.synchronize(stream) }
        if let failure = try runtime.takeDeferredFailure(on: stream) { throw failure }
    }

    public static func == (a: GPUStream, b: GPUStream) -> Bool {
        a.device == b.device && a.rawHandle == b.rawHandle
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(device)
        hasher.combine(rawHandle)
    }

    private static func context(of device: Device) throws(DNLSError) -> CUDAContext {
        guard case let .cuda(ordinal) = device else {
            throw .invalidArgument(argument: "device", expected: "a GPU (.cuda(n)) for a stream", actual: "\(device)")
        }
        return try CUDARuntime.shared(ordinal: ordinal).context
    }
}

/// When the input checks that only a kernel can make (GPU index, position, weight and flow
/// tensors) are reported.
public enum InputChecking: Sendable, Hashable {
    /// Before the call returns, as the same typed error a host tensor gives: the call waits for
    /// the check's few bytes. The default.
    case eager
    /// At the next ``GPUStream/synchronize()`` or ``Device/synchronize()`` the caller asks for, or
    /// never: the call never waits for the device. Kernels then run on unchecked tables and treat
    /// a bad entry as missing, so it never makes them read outside their inputs or write outside
    /// their outputs.
    case deferred
}

/// Runs `body` with every GPU operation on `stream.device` queued on `stream` and its kernel-side
/// input checks reported as `checking` says.
///
/// The scope belongs to the calling task (or thread) and nests: the innermost one wins.
/// Operations on other devices use their legacy default streams. A tensor made in the scope is
/// ready on `stream`: read it in the scope or after ``GPUStream/synchronize()``.
public func withStream<R>(_ stream: GPUStream, checking: InputChecking = .eager,
                          _ body: () throws(DNLSError) -> R) throws(DNLSError) -> R {
    try StreamScope.$current.binding(StreamScope(stream: stream, checking: checking), body)
}

/// The stream and checking mode that ``withStream(_:checking:_:)`` set for the calling task.
struct StreamScope: Sendable {
    let stream: GPUStream
    let checking: InputChecking

    @TaskLocal static var current: StreamScope?
}

extension Device {
    /// The stream this device's work goes to now (`nil`: the legacy default stream).
    var currentStream: CUDAStream? {
        guard let scope = StreamScope.current, scope.stream.device == self else { return nil }
        return scope.stream.stream
    }

    /// The checking mode of this device's operations now.
    var inputChecking: InputChecking {
        guard let scope = StreamScope.current, scope.stream.device == self else { return .eager }
        return scope.checking
    }
}
