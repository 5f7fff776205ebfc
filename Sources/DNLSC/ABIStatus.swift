import CDNLSABI
import DNLS

/// The C status of a library error: one code per kind of ``DNLSError``.
extension DNLSError {
    var abiStatus: Int32 {
        switch self {
        case .invalidArgument: Int32(DNLS_INVALID_ARGUMENT)
        case .shapeMismatch: Int32(DNLS_SHAPE_MISMATCH)
        case .outOfRange: Int32(DNLS_OUT_OF_RANGE)
        case .nonFinite: Int32(DNLS_NON_FINITE)
        case .deviceMismatch: Int32(DNLS_DEVICE_MISMATCH)
        case .unavailable: Int32(DNLS_UNAVAILABLE)
        case .outOfMemory: Int32(DNLS_OUT_OF_MEMORY)
        case .workspaceTooSmall: Int32(DNLS_WORKSPACE_TOO_SMALL)
        case .deviceFailure, .fileAccess, .fileFormat: Int32(DNLS_DEVICE_FAILURE)
        }
    }
}

/// Copies `text` into the caller's message buffer, truncated on a UTF-8 character boundary so
/// that it stays valid text, and NUL-terminated.
func writeMessage(_ text: String, to call: UnsafeMutablePointer<DNLSCall>?) {
    guard let call, let buffer = call.pointee.message, call.pointee.message_capacity > 0 else { return }
    let capacity = Int(clamping: call.pointee.message_capacity) - 1
    var utf8 = Array(text.utf8.prefix(capacity))
    // Drop a trailing partial character (continuation bytes are 10xxxxxx).
    if utf8.count == capacity, capacity < text.utf8.count {
        while let last = utf8.last, last & 0xC0 == 0x80 { utf8.removeLast() }
        if let last = utf8.last, last & 0x80 != 0 { utf8.removeLast() }
    }
    buffer.withMemoryRebound(to: UInt8.self, capacity: utf8.count + 1) { out in
        for (i, byte) in utf8.enumerated() { out[i] = byte }
        out[utf8.count] = 0
    }
}

/// Runs an exported function's body and turns what it throws into a status and a message.
/// Nothing thrown crosses the C boundary.
func abiEntry(_ call: UnsafeMutablePointer<DNLSCall>?, _ body: () throws(DNLSError) -> Void) -> Int32 {
    do {
        try body()
        writeMessage("", to: call)
        return Int32(DNLS_OK)
    } catch {
        writeMessage(error.description, to: call)
        return error.abiStatus
    }
}
