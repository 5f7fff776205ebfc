import CDNLSABI

// Test support shared by the C ABI tests on the CPU (DNLSCTests) and on the fake GPU (CUDADriverTests).

/// A `DNLSTensor` descriptor that owns its shape and stride arrays (freed with it), for tests
/// that call the C ABI as a C caller would.
public final class ABIDescriptor {
    private let shapeBuffer: UnsafeMutablePointer<Int64>
    private let strideBuffer: UnsafeMutablePointer<Int64>?
    public var tensor: DNLSTensor

    /// A descriptor of `shape` at `data`; `strides` in elements (`nil`: row-major).
    public init(data: UnsafeMutableRawPointer?, shape: [Int], strides: [Int]? = nil, code: Int32 = Int32(DNLS_DTYPE_FLOAT),
         bits: UInt8 = 32, deviceType: Int32 = Int32(DNLS_DEVICE_CPU), deviceID: Int32 = 0) {
        shapeBuffer = .allocate(capacity: max(shape.count, 1))
        for (i, n) in shape.enumerated() { shapeBuffer[i] = Int64(n) }
        if let strides {
            let buffer = UnsafeMutablePointer<Int64>.allocate(capacity: max(strides.count, 1))
            for (i, s) in strides.enumerated() { buffer[i] = Int64(s) }
            strideBuffer = buffer
        } else {
            strideBuffer = nil
        }
        tensor = DNLSTensor(data: data, device: DNLSDevice(device_type: deviceType, device_id: deviceID), ndim: Int32(shape.count),
                            dtype: DNLSDataType(code: UInt8(code), bits: bits, lanes: 1), shape: shapeBuffer,
                            strides: strideBuffer, byte_offset: 0)
    }

    deinit {
        shapeBuffer.deallocate()
        strideBuffer?.deallocate()
    }
}

/// A `DNLSCall` with a message buffer, freed with it.
public final class ABICallRecord {
    private let buffer: UnsafeMutablePointer<CChar>
    public var call: DNLSCall

    public init(capacity: Int = 512) {
        buffer = .allocate(capacity: capacity)
        buffer.initialize(repeating: 0x55, count: capacity)
        call = DNLSCall()
        call.message = buffer
        call.message_capacity = UInt64(capacity)
    }

    public var message: String { String(cString: buffer) }

    deinit { buffer.deallocate() }
}
