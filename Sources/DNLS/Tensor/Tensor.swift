import CUDADriver
import Synchronization

/// A dense, contiguous, row-major array of scalars with a shape and a device.
///
/// `Tensor` is a value type with copy-on-write storage, in host memory (``Device/cpu``) or on a
/// GPU (``Device/cuda(_:)``). Videos are `Tensor<Float>` of shape `(B, T, C, H, W)` or
/// `(T, C, H, W)`; index tensors are `Tensor<Int32>` whose last axis holds `(t, h, w)` triples.
/// `Tensor<Double>` is accepted by the CPU reference backend. Move a tensor between devices with
/// ``to(_:)``.
///
/// ```swift
/// var video = Tensor<Float>(zeros: [5, 3, 64, 64])
/// video[0, 1, 10, 20] = 0.5
/// let onGPU = try video.to(.cuda(0))
/// ```
public struct Tensor<Scalar: TensorScalar>: Sendable {
    /// The extent of each axis, outermost first.
    public let shape: [Int]
    /// Where the storage lives.
    public let device: Device
    /// The elements of a host tensor.
    var host: [Scalar]
    /// The memory of a GPU tensor.
    var deviceStorage: DeviceStorage?

    /// The elements in row-major order. Only for tensors on ``Device/cpu``: move a GPU tensor
    /// with `to(.cpu)` first (reading `scalars` of a GPU tensor is a programming error).
    public var scalars: [Scalar] {
        get {
            precondition(device == .cpu, "Tensor.scalars of a tensor on \(device): call .to(.cpu) first")
            return host
        }
        set {
            precondition(device == .cpu, "Tensor.scalars of a tensor on \(device): call .to(.cpu) first")
            host = newValue
        }
        _modify {
            precondition(device == .cpu, "Tensor.scalars of a tensor on \(device): call .to(.cpu) first")
            yield &host
        }
    }

    /// A tensor with the given shape and elements (row-major).
    /// - Throws: ``DNLSError/shapeMismatch(argument:expected:actual:)`` when the element count
    ///   does not match the shape, ``DNLSError/invalidArgument(argument:expected:actual:)`` for a
    ///   negative extent.
    public init(shape: [Int], scalars: [Scalar]) throws(DNLSError) {
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw .invalidArgument(argument: "shape", expected: "non-negative extents", actual: "\(shape)")
        }
        let count = shape.reduce(1, *)
        guard count == scalars.count else {
            throw .shapeMismatch(argument: "scalars", expected: "\(count) elements for shape \(shape)", actual: [scalars.count])
        }
        self.init(uncheckedShape: shape, scalars: scalars)
    }

    /// A host tensor of the given shape filled with `value`.
    /// - Precondition: every extent is non-negative (like `Array(repeating:count:)`).
    public init(repeating value: Scalar, shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "tensor extents must be non-negative, got \(shape)")
        self.init(uncheckedShape: shape, scalars: Array(repeating: value, count: shape.reduce(1, *)))
    }

    /// A host tensor of the given shape filled with zeros.
    /// - Precondition: every extent is non-negative.
    public init(zeros shape: [Int]) {
        self.init(repeating: .zero, shape: shape)
    }

    /// Trusted internal initialiser: the caller guarantees `scalars.count == product(shape)`.
    init(uncheckedShape shape: [Int], scalars: [Scalar]) {
        self.shape = shape
        self.device = .cpu
        self.host = scalars
        self.deviceStorage = nil
    }

    /// A GPU tensor whose contents are undefined until written, allocated on the calling scope's
    /// stream (``withStream(_:checking:_:)``) and freed on it. In a planning run
    /// (``GPUWorkspace/bytesNeeded(on:for:)``) it is a placeholder with no memory.
    init(uninitializedOn device: Device, shape: [Int]) throws(DNLSError) {
        guard case let .cuda(ordinal) = device else {
            self.init(zeros: shape)
            return
        }
        let runtime = try CUDARuntime.shared(ordinal: ordinal)
        let bytes = shape.reduce(1, *) * MemoryLayout<Scalar>.stride
        if device.isPlanning {
            let placeholder = DeviceStorage(DeviceBuffer(borrowing: 0, byteCount: bytes, context: runtime.context))
            self.init(shape: shape, device: device, host: [], deviceStorage: placeholder)
            return
        }
        let stream = device.currentStream
        let storage = try cuda(device) { () throws(CUDAError) in
            DeviceStorage(try DeviceBuffer(context: runtime.context, byteCount: bytes, stream: stream))
        }
        try storage.poisonIfAsked(on: device)
        self.init(shape: shape, device: device, host: [], deviceStorage: storage)
    }

    /// A GPU temporary of an operation (contents undefined): carved from the caller's workspace
    /// inside ``withWorkspace(_:_:)`` or a planning run, allocated as ``init(uninitializedOn:shape:)``
    /// otherwise.
    init(scratchOn device: Device, shape: [Int]) throws(DNLSError) {
        guard let scope = device.memoryScope else {
            try self.init(uninitializedOn: device, shape: shape)
            return
        }
        let storage = try scope.storage(bytes: shape.reduce(1, *) * MemoryLayout<Scalar>.stride)
        if !scope.planning { try storage.poisonIfAsked(on: device) }
        self.init(shape: shape, device: device, host: [], deviceStorage: storage)
    }

    /// The number of axes.
    public var rank: Int { shape.count }
    /// The number of elements.
    public var count: Int { shape.reduce(1, *) }

    /// The same elements viewed with another shape of the same element count.
    public func reshaped(_ newShape: [Int]) throws(DNLSError) -> Tensor {
        guard newShape.allSatisfy({ $0 >= 0 }), newShape.reduce(1, *) == count else {
            throw .shapeMismatch(argument: "shape", expected: "\(count) elements", actual: newShape)
        }
        return withShape(newShape)
    }

    /// The same storage under another shape of the same element count (trusted; no copy).
    func withShape(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, device: device, host: host, deviceStorage: deviceStorage)
    }

    /// A tensor of zeros on `device`.
    static func zeros(_ shape: [Int], on device: Device) throws(DNLSError) -> Tensor {
        guard device != .cpu else { return Tensor(zeros: shape) }
        let t = try Tensor(uninitializedOn: device, shape: shape)
        try t.fillZeros()
        return t
    }

    /// Queues a fill of a GPU tensor's memory with zeros on the calling scope's stream (nothing in
    /// a planning run).
    func fillZeros() throws(DNLSError) {
        guard let deviceStorage, !device.isPlanning else { return }
        try cuda(device) { () throws(CUDAError) in try deviceStorage.buffer.fill(pattern: 0, on: device.currentStream) }
    }

    init(shape: [Int], device: Device, host: [Scalar], deviceStorage: DeviceStorage?) {
        self.shape = shape; self.device = device; self.host = host; self.deviceStorage = deviceStorage
    }

    /// The same elements on `device`: a copy through host memory when the devices differ, `self`
    /// otherwise.
    ///
    /// Inside ``withStream(_:checking:_:)`` the copies are queued on the scope's stream: a copy to
    /// a GPU returns once the host's bytes are staged, a copy from a GPU waits for the work queued
    /// on the stream so far.
    /// - Throws: ``DNLSError/unavailable(what:reason:)`` when the GPU, its driver or NVRTC cannot
    ///   be found (the reason lists where they were looked for), ``DNLSError/deviceFailure(device:reason:)``
    ///   when a copy fails.
    public func to(_ target: Device) throws(DNLSError) -> Tensor {
        if target == device { return self }
        let hostCopy = try hostElements()
        if target == .cpu { return Tensor(uncheckedShape: shape, scalars: hostCopy) }
        let moved = try Tensor(uninitializedOn: target, shape: shape)
        try moved.upload(hostCopy)
        return moved
    }

    /// Queues a copy of host elements into the start of this GPU tensor's memory on the calling
    /// scope's stream (nothing in a planning run, or for a host tensor).
    func upload(_ elements: [Scalar]) throws(DNLSError) {
        guard let storage = deviceStorage, !device.isPlanning else { return }
        let stream = device.currentStream
        try cuda(device) { () throws(CUDAError) in
            let failure: CUDAError? = elements.withUnsafeBytes { bytes in
                do throws(CUDAError) { try storage.buffer.upload(bytes, on: stream); return nil } catch { return error }
            }
            if let failure { throw failure }
        }
    }

    /// The elements in host memory, downloaded when the tensor is on a GPU (after the work queued
    /// on the calling scope's stream so far).
    func hostElements() throws(DNLSError) -> [Scalar] {
        try hostElements(on: device.currentStream)
    }

    /// The elements in host memory, downloaded after the work queued on `stream` so far.
    func hostElements(on stream: CUDAStream?) throws(DNLSError) -> [Scalar] {
        guard let deviceStorage else { return host }
        var elements = [Scalar](repeating: .zero, count: count)
        if device.isPlanning { return elements }
        try cuda(device) { () throws(CUDAError) in
            let failure: CUDAError? = elements.withUnsafeMutableBytes { bytes in
                do throws(CUDAError) { try deviceStorage.buffer.download(into: bytes, on: stream); return nil } catch { return error }
            }
            if let failure { throw failure }
        }
        return elements
    }

    /// Gives a GPU tensor its own memory before a kernel writes into it in place (copy on write).
    /// Borrowed memory (``init(unsafeDeviceAddress:shape:on:)``) is never copied: writing into it is
    /// what its owner asked for.
    mutating func makeDeviceStorageUnique() throws(DNLSError) {
        guard deviceStorage != nil, !deviceStorage!.buffer.isBorrowed, !isKnownUniquelyReferenced(&deviceStorage!) else { return }
        let copy = try Tensor(uninitializedOn: device, shape: shape)
        let source = deviceStorage!
        try cuda(device) { () throws(CUDAError) in try copy.deviceStorage!.buffer.copy(from: source.buffer, on: device.currentStream) }
        deviceStorage = copy.deviceStorage
    }

    /// The row-major offset of a multi-index.
    @inlinable
    public func offset(of index: [Int]) -> Int {
        precondition(index.count == shape.count, "index rank \(index.count) does not match tensor rank \(shape.count)")
        var offset = 0
        for axis in 0..<shape.count {
            precondition(index[axis] >= 0 && index[axis] < shape[axis], "index \(index) outside shape \(shape)")
            offset = offset * shape[axis] + index[axis]
        }
        return offset
    }

    /// Element access by multi-index, e.g. `video[b, t, c, h, w]` (host tensors only).
    public subscript(_ index: Int...) -> Scalar {
        get { scalars[offset(of: index)] }
        set { scalars[offset(of: index)] = newValue }
    }
}

/// The GPU memory behind a tensor, shared by copies of the tensor until one of them writes.
final class DeviceStorage: @unchecked Sendable {
    let buffer: DeviceBuffer
    /// The workspace block the memory is, returned when the storage goes away.
    let lease: ArenaLease?
    /// The storage whose memory a borrowed ``buffer`` views, kept alive with it.
    let viewed: DeviceStorage?

    init(_ buffer: consuming DeviceBuffer, lease: ArenaLease? = nil, viewing viewed: DeviceStorage? = nil) {
        self.buffer = buffer
        self.lease = lease
        self.viewed = viewed
    }

    /// Fills new memory with NaN when ``Diagnostics/poisonsDeviceAllocations`` asks for it.
    func poisonIfAsked(on device: Device) throws(DNLSError) {
        guard Diagnostics.poisonsDeviceAllocations else { return }
        try cuda(device) { () throws(CUDAError) in try buffer.fill(pattern: 0x7FC0_0000, on: device.currentStream) }
    }
}

extension Tensor: Equatable {
    /// Equal shapes, devices and elements (GPU tensors are compared after a download).
    public static func == (a: Tensor, b: Tensor) -> Bool {
        guard a.shape == b.shape, a.device == b.device else { return false }
        if a.device == .cpu { return a.host == b.host }
        if a.deviceStorage === b.deviceStorage { return true }
        return (try? a.hostElements()) == (try? b.hostElements())
    }
}

extension Tensor where Scalar: BinaryFloatingPoint {
    /// The same values converted to another floating-point type (for example Float → Double for
    /// gradient checks in the reference backend). Host tensors only.
    public func converted<Other: BinaryFloatingPoint & TensorScalar>(to _: Other.Type = Other.self) -> Tensor<Other> {
        Tensor<Other>(uncheckedShape: shape, scalars: scalars.map { Other($0) })
    }
}

/// Switches that help test backends; not for production use.
public enum Diagnostics {
    private static let poison = Atomic<Bool>(false)

    /// When on, every new GPU buffer an operation allocates is filled with NaN (and `Int32`
    /// buffers with `0x7FC00000`) before kernels write it, so an element a kernel forgets to
    /// write shows up as NaN instead of passing by luck.
    public static var poisonsDeviceAllocations: Bool {
        get { poison.load(ordering: .relaxed) }
        set { poison.store(newValue, ordering: .relaxed) }
    }
}
