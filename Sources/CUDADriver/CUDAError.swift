import CCUDA

/// What went wrong in the CUDA driver layer, with the driver's own words where it gave any.
package enum CUDAError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A shared library was not found; `searched` lists every place that was tried, in order.
    case libraryNotFound(library: String, searched: [String])
    /// The library was found but lacks a symbol DNLS needs (too old a driver or NVRTC).
    case symbolMissing(library: String, symbol: String)
    /// A driver call failed: its name, the driver's error code, name and message.
    case driver(call: String, code: Int32, name: String, message: String)
    /// An NVRTC call failed.
    case nvrtc(call: String, code: Int32, message: String)
    /// NVRTC rejected a kernel: the program name and the compiler's log.
    case compilation(program: String, log: String)
    /// No GPU with this ordinal (the machine has `count`).
    case noDevice(ordinal: Int, count: Int)
    /// The device had no room for an allocation of `bytes` bytes (`CUDA_ERROR_OUT_OF_MEMORY`).
    case outOfMemory(bytes: Int)
    /// A host-side precondition of the driver layer failed (sizes, arguments).
    case invalidArgument(String)

    /// The error in a sentence, with the driver's own words where it gave any.
    package var description: String {
        switch self {
        case let .libraryNotFound(library, searched):
            return "\(library) not found; looked in: " + (searched.isEmpty ? "(nowhere)" : searched.joined(separator: ", "))
        case let .symbolMissing(library, symbol):
            return "\(library) has no symbol \(symbol) (driver or NVRTC too old?)"
        case let .driver(call, code, name, message):
            return "\(call) failed: \(name) (\(code)): \(message)"
        case let .nvrtc(call, code, message):
            return "\(call) failed: \(message) (\(code))"
        case let .compilation(program, log):
            return "NVRTC could not compile \(program):\n\(log)"
        case let .noDevice(ordinal, count):
            return "no CUDA device \(ordinal): this machine has \(count)"
        case let .outOfMemory(bytes):
            return "out of device memory allocating \(bytes) bytes"
        case let .invalidArgument(message):
            return message
        }
    }
}
