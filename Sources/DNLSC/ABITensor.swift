import CDNLSABI
import DNLS

/// A caller's tensor descriptor (DLPack's `DLTensor` layout), read once and checked.
///
/// On the CPU an input is copied into a library tensor (any strides) and an output is copied
/// back after the call; on a GPU the library works on the caller's memory in place, which must
/// be dense and row-major.
struct ABITensor {
    let name: String
    let device: Device
    let shape: [Int]
    private let data: UnsafeMutableRawPointer?
    private let strides: [Int]
    private let dtype: DNLSDataType

    /// The descriptor `pointer` names, or `nil` for a null pointer.
    init?(_ pointer: UnsafePointer<DNLSTensor>?, _ name: String) throws(DNLSError) {
        guard let pointer else { return nil }
        try self.init(required: pointer, name)
    }

    /// The descriptor `pointer` names; a null pointer is an error naming the argument.
    init(required pointer: UnsafePointer<DNLSTensor>?, _ name: String) throws(DNLSError) {
        guard let pointer else {
            throw .invalidArgument(argument: name, expected: "a tensor", actual: "a null descriptor")
        }
        let d = pointer.pointee
        self.name = name
        guard d.ndim >= 0, d.ndim <= 64 else {
            throw .invalidArgument(argument: name, expected: "0…64 dimensions", actual: "\(d.ndim)")
        }
        let rank = Int(d.ndim)
        guard rank == 0 || d.shape != nil else {
            throw .invalidArgument(argument: name, expected: "a shape array", actual: "a null shape pointer")
        }
        let shape = (0..<rank).map { Int(d.shape![$0]) }
        self.shape = shape
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw .invalidArgument(argument: name, expected: "non-negative extents", actual: "\(shape)")
        }
        var dense = [Int](repeating: 1, count: rank)
        for i in stride(from: rank - 2, through: 0, by: -1) {
            let (p, o) = dense[i + 1].multipliedReportingOverflow(by: max(shape[i + 1], 1))
            guard !o else { throw .invalidArgument(argument: name, expected: "fewer than 2⁶³ elements", actual: "\(shape)") }
            dense[i] = p
        }
        let strides = d.strides.map { s in (0..<rank).map { Int(s[$0]) } } ?? dense
        self.strides = strides
        dtype = d.dtype
        guard d.dtype.lanes == 1 else {
            throw .invalidArgument(argument: name, expected: "one lane per element", actual: "\(d.dtype.lanes) lanes")
        }
        switch Int(d.device.device_type) {
        case Int(DNLS_DEVICE_CPU): device = .cpu
        case Int(DNLS_DEVICE_CUDA):
            guard d.device.device_id >= 0 else {
                throw .invalidArgument(argument: name, expected: "a CUDA device ordinal ≥ 0", actual: "\(d.device.device_id)")
            }
            device = .cuda(Int(d.device.device_id))
            // Extents of 1 may carry any stride (torch gives them their own); empty tensors are dense.
            let isDense = shape.contains(0) || (0..<rank).allSatisfy { shape[$0] == 1 || strides[$0] == dense[$0] }
            guard isDense else {
                throw .invalidArgument(argument: name, expected: "a contiguous (row-major) GPU tensor",
                                       actual: "strides \(strides) for shape \(shape)")
            }
        default:
            throw .invalidArgument(argument: name, expected: "a CPU or CUDA tensor (DLPack device type 1 or 2)",
                                   actual: "device type \(d.device.device_type)")
        }
        data = d.data.map { $0 + Int(d.byte_offset) }
    }

    var count: Int { shape.reduce(1, *) }
    var isGPU: Bool { device != .cpu }

    /// Which floating-point type the tensor holds.
    func floatType() throws(DNLSError) -> FloatType {
        switch (Int(dtype.code), dtype.bits) {
        case (Int(DNLS_DTYPE_FLOAT), 32): return .float
        case (Int(DNLS_DTYPE_FLOAT), 64):
            guard !isGPU else {
                throw .invalidArgument(argument: name, expected: "float32 on a GPU (float64 runs on the CPU reference)",
                                       actual: "float64 on \(device)")
            }
            return .double
        default:
            throw .invalidArgument(argument: name, expected: "float32 or float64", actual: dtypeDescription)
        }
    }

    private var dtypeDescription: String {
        switch Int(dtype.code) {
        case Int(DNLS_DTYPE_FLOAT): "float\(dtype.bits)"
        case Int(DNLS_DTYPE_INT): "int\(dtype.bits)"
        case 1: "uint\(dtype.bits)"
        default: "dtype code \(dtype.code) of \(dtype.bits) bits"
        }
    }

    private func requireType<S: TensorScalar>(_: S.Type) throws(DNLSError) {
        let expected: (Int, UInt8, String) = S.self == Float.self ? (Int(DNLS_DTYPE_FLOAT), 32, "float32")
            : S.self == Double.self ? (Int(DNLS_DTYPE_FLOAT), 64, "float64") : (Int(DNLS_DTYPE_INT), 32, "int32")
        guard Int(dtype.code) == expected.0, dtype.bits == expected.1 else {
            throw .invalidArgument(argument: name, expected: "\(expected.2) (as the other tensors of the call)",
                                   actual: dtypeDescription)
        }
    }

    private func requireData(_ planning: Bool) throws(DNLSError) {
        guard data != nil || count == 0 || planning else {
            throw .invalidArgument(argument: name, expected: "a data pointer", actual: "a null data pointer")
        }
    }

    /// The tensor as a library input: a copy on the CPU, the caller's memory on a GPU.
    func input<S: TensorScalar>(_: S.Type, planning: Bool = false) throws(DNLSError) -> Tensor<S> {
        try requireType(S.self)
        try requireData(planning)
        if case .cuda = device {
            return try Tensor(unsafeDeviceAddress: UInt(bitPattern: data), shape: shape, on: device)
        }
        var scalars = [S]()
        scalars.reserveCapacity(count)
        if count > 0, let data {
            let base = data.assumingMemoryBound(to: S.self)
            forEachOffset { scalars.append(base[$0]) }
        }
        return try Tensor(shape: shape, scalars: scalars)
    }

    /// The tensor as a library output: the caller's memory on a GPU; on the CPU a zero tensor of
    /// its shape, or (to add into) a copy of what it holds.
    func output<S: TensorScalar>(_: S.Type, accumulating: Bool = false, planning: Bool = false) throws(DNLSError) -> Tensor<S> {
        if isGPU || accumulating { return try input(S.self, planning: planning) }
        try requireType(S.self)
        try requireData(planning)
        return Tensor(zeros: shape)
    }

    /// Writes a CPU result back into the caller's memory (a GPU result is already there).
    func store<S: TensorScalar>(_ result: Tensor<S>) throws(DNLSError) {
        guard !isGPU else { return }
        guard result.count == count else {
            throw .shapeMismatch(argument: name, expected: "\(result.count) elements, as \(result.shape)", actual: shape)
        }
        guard count > 0, let data else { return }
        let base = data.assumingMemoryBound(to: S.self)
        let scalars = result.scalars
        var i = 0
        forEachOffset { base[$0] = scalars[i]; i += 1 }
    }

    /// Calls `body` with the element offset of every element, in row-major order.
    private func forEachOffset(_ body: (Int) -> Void) {
        let rank = shape.count
        guard rank > 0 else { body(0); return }
        var index = [Int](repeating: 0, count: rank)
        var offset = 0
        let inner = shape[rank - 1], innerStride = strides[rank - 1]
        outer: while true {
            for j in 0..<inner { body(offset + j * innerStride) }
            var axis = rank - 2
            while axis >= 0 {
                index[axis] += 1
                offset += strides[axis]
                if index[axis] < shape[axis] { continue outer }
                offset -= strides[axis] * shape[axis]
                index[axis] = 0
                axis -= 1
            }
            return
        }
    }
}

/// The floating-point types the operations compute in.
enum FloatType { case float, double }
