import CCUDA

/// A loaded kernel entry point. Its module stays loaded for the life of the ``KernelCache``.
public struct CUDAKernel: @unchecked Sendable {
    /// The context the kernel's module is loaded in.
    public let context: CUDAContext
    /// The driver's handle of the entry point.
    public let function: CUfunction
    /// The entry point's name, for errors.
    public let name: String

    /// One kernel parameter, passed by value.
    public enum Argument: Sendable {
        case pointer(CUdeviceptr)
        case int32(Int32)
        case int64(Int64)
        case float(Float)
        /// A C struct passed by value, as its bytes (little-endian, laid out as the kernel declares it).
        case structure([UInt8])

        /// The value's bytes (little-endian), as the kernel receives them.
        public var bytes: [UInt8] {
            func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] { (0..<MemoryLayout<T>.size).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
            switch self {
            case let .pointer(p): return le(p)
            case let .int32(v): return le(v)
            case let .int64(v): return le(v)
            case let .float(v): return le(v.bitPattern)
            case let .structure(b): return b
            }
        }

        /// The value's size in bytes (4 for int32 and float, 8 for int64 and pointers).
        var size: Int {
            switch self {
            case .pointer, .int64: 8
            case .int32, .float: 4
            case let .structure(b): b.count
            }
        }

        /// A C struct of `fields` laid out back to back at their sizes (the caller keeps them
        /// aligned, as the kernel's declaration does), as its bytes.
        public static func structure(packing fields: [Argument]) -> Argument {
            let count = fields.reduce(0) { $0 + $1.size }
            return .structure([UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
                var offset = 0
                for field in fields {
                    field.write(to: UnsafeMutableRawPointer(buffer.baseAddress!) + offset)
                    offset += field.size
                }
                initialized = count
            })
        }

        /// Bytes of the argument's slot in a launch's parameter buffer: its size rounded up to 16.
        var slotBytes: Int {
            switch self {
            case .pointer, .int64, .int32, .float: 16
            case let .structure(b): (max(b.count, 1) + 15) / 16 * 16
            }
        }

        /// Stores the value's bytes (little-endian, as ``bytes``) at `address`.
        func write(to address: UnsafeMutableRawPointer) {
            switch self {
            case let .pointer(p): address.storeBytes(of: UInt64(p).littleEndian, as: UInt64.self)
            case let .int32(v): address.storeBytes(of: v.littleEndian, as: Int32.self)
            case let .int64(v): address.storeBytes(of: v.littleEndian, as: Int64.self)
            case let .float(v): address.storeBytes(of: v.bitPattern.littleEndian, as: UInt32.self)
            case let .structure(b): b.withUnsafeBytes { if let base = $0.baseAddress { address.copyMemory(from: base, byteCount: b.count) } }
            }
        }
    }

    /// Lets the kernel use up to `bytes` of dynamic shared memory (needed above 48 KiB).
    public func allowSharedMemory(bytes: Int) throws(CUDAError) {
        try context.makeCurrent()
        try context.driver.check(
            context.driver.cuFuncSetAttribute(function, Int32(DNLS_CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES),
                                              Int32(bytes)), "cuFuncSetAttribute(\(name))")
    }

    /// Launches the kernel on `stream` (the default stream when `nil`) with its parameters as
    /// separate values, in order.
    public func launch(grid: (Int, Int, Int), block: (Int, Int, Int), sharedBytes: Int = 0,
                       stream: CUDAStream? = nil, arguments: [Argument]) throws(CUDAError) {
        // Each argument in its own 16-byte-aligned slot of one buffer; the driver reads each through
        // its pointer with the size the kernel declares. On the stack: a launch allocates nothing.
        var total = 0
        for argument in arguments { total += argument.slotBytes }
        try withUnsafeTemporaryAllocation(byteCount: max(total, 16), alignment: 16) { (storage) throws(CUDAError) in
            // Zeroed, so the padding of a slot is never stale bytes (the fake driver reads 8 per slot).
            storage.initializeMemory(as: UInt8.self, repeating: 0)
            try withUnsafeTemporaryAllocation(of: UnsafeMutableRawPointer?.self, capacity: max(arguments.count, 1)) {
                (pointers) throws(CUDAError) in
                var offset = 0
                for (i, argument) in arguments.enumerated() {
                    argument.write(to: storage.baseAddress! + offset)
                    pointers[i] = storage.baseAddress! + offset
                    offset += argument.slotBytes
                }
                try launch(grid: grid, block: block, sharedBytes: sharedBytes, stream: stream, parameterPointers: pointers.baseAddress!)
            }
        }
    }

    /// Launches the kernel on `stream` (the default stream when `nil`) with `parameters` as its
    /// one parameter: a C struct, passed by value, that the kernel declares with the same layout
    /// (the structs of a header both sides compile).
    public func launch<Parameters: BitwiseCopyable>(grid: (Int, Int, Int), block: (Int, Int, Int), sharedBytes: Int = 0,
                                                    stream: CUDAStream? = nil, parameters: Parameters) throws(CUDAError) {
        var parameters = parameters
        try withUnsafeMutableBytes(of: &parameters) { (bytes) throws(CUDAError) in
            var pointer: UnsafeMutableRawPointer? = bytes.baseAddress
            try withUnsafeMutablePointer(to: &pointer) { (pointers) throws(CUDAError) in
                try launch(grid: grid, block: block, sharedBytes: sharedBytes, stream: stream, parameterPointers: pointers)
            }
        }
    }

    /// The launch itself: `parameterPointers` points at one pointer per kernel parameter.
    private func launch(grid: (Int, Int, Int), block: (Int, Int, Int), sharedBytes: Int, stream: CUDAStream?,
                        parameterPointers: UnsafeMutablePointer<UnsafeMutableRawPointer?>) throws(CUDAError) {
        guard grid.0 > 0, grid.1 > 0, grid.2 > 0, grid.0 < (1 << 31), grid.1 < 65536, grid.2 < 65536 else {
            throw .invalidArgument("kernel \(name): grid \(grid) outside the device's limits")
        }
        guard block.0 > 0, block.1 > 0, block.2 > 0, block.0 * block.1 * block.2 <= 1024,
              sharedBytes >= 0, sharedBytes <= Int(UInt32.max) else {
            throw .invalidArgument("kernel \(name): block \(block) or shared memory \(sharedBytes) bytes outside the device's limits")
        }
        try context.makeCurrent()
        let result = context.driver.cuLaunchKernel(function, UInt32(grid.0), UInt32(grid.1), UInt32(grid.2),
                                                   UInt32(block.0), UInt32(block.1), UInt32(block.2),
                                                   UInt32(sharedBytes), stream?.handle, parameterPointers, nil)
        try context.driver.check(result, "cuLaunchKernel(\(name))")
    }
}
