import CUDADriver

extension Tensor {
    /// A GPU tensor over memory that someone else owns: `shape.count` elements, dense and
    /// row-major, from device address `unsafeDeviceAddress` on `device` (a host framework's tensor,
    /// for instance its `data_ptr()`).
    ///
    /// DNLS reads and writes the memory but never frees it. Copies of the tensor share it, and a
    /// write into any of them (an operation's `into:` form, ``PatchFold/accumulate(_:grid:batch:into:implementation:)``)
    /// goes to it instead of to a copy: that is how operations write into memory the caller owns.
    /// The owner keeps the memory alive, and frees or reuses it only after the work queued on it.
    ///
    /// DNLS cannot check that the memory exists: an address that is not that many live bytes on
    /// `device` is undefined behaviour, as for any raw pointer, except in a planning run
    /// (``GPUWorkspace/bytesNeeded(on:for:)``), which reads and writes nothing.
    /// - Throws: ``DNLSError/invalidArgument(argument:expected:actual:)`` for the CPU, a negative
    ///   extent or an address not aligned to the element type;
    ///   ``DNLSError/unavailable(what:reason:)`` when the GPU cannot be opened.
    public init(unsafeDeviceAddress: UInt, shape: [Int], on device: Device) throws(DNLSError) {
        guard case let .cuda(ordinal) = device else {
            throw .invalidArgument(argument: "device", expected: "a GPU (.cuda(n)) for device memory", actual: "\(device)")
        }
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw .invalidArgument(argument: "shape", expected: "non-negative extents", actual: "\(shape)")
        }
        guard unsafeDeviceAddress % UInt(MemoryLayout<Scalar>.alignment) == 0 else {
            throw .invalidArgument(argument: "unsafeDeviceAddress", expected: "a multiple of \(MemoryLayout<Scalar>.alignment)",
                                   actual: "0x" + String(unsafeDeviceAddress, radix: 16))
        }
        let (count, overflow) = shape.reduce((1, false)) { acc, n in
            let (p, o) = acc.0.multipliedReportingOverflow(by: n)
            return (p, acc.1 || o)
        }
        let (bytes, tooBig) = count.multipliedReportingOverflow(by: MemoryLayout<Scalar>.stride)
        guard !overflow, !tooBig else {
            throw .invalidArgument(argument: "shape", expected: "fewer than 2⁶³ bytes", actual: "\(shape)")
        }
        let context = try CUDARuntime.shared(ordinal: ordinal).context
        self.init(shape: shape, device: device, host: [],
                  deviceStorage: DeviceStorage(DeviceBuffer(borrowing: UInt64(unsafeDeviceAddress), byteCount: bytes,
                                                            context: context)))
    }

    /// The device address of a GPU tensor's first element, or `nil` for a host tensor. Valid while
    /// the tensor (or a copy of it) is alive; for interoperation with other GPU code.
    public var unsafeDeviceAddress: UInt? {
        deviceStorage.map { UInt($0.buffer.address) }
    }

    /// Whether the tensor is over memory someone else owns (``init(unsafeDeviceAddress:shape:on:)``).
    var isBorrowed: Bool { deviceStorage?.buffer.isBorrowed ?? false }
}
