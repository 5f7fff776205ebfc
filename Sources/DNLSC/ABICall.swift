import CDNLSABI
import DNLS

/// A caller's per-call settings (`DNLSCall`): stream, workspace, checking, CPU backend, and
/// whether to plan only.
struct ABICall {
    private let pointer: UnsafeMutablePointer<DNLSCall>?
    private let settings: DNLSCall
    let implementation: Implementation
    let checking: InputChecking

    init(_ pointer: UnsafeMutablePointer<DNLSCall>?) throws(DNLSError) {
        self.pointer = pointer
        settings = pointer?.pointee ?? DNLSCall()
        switch settings.implementation {
        case 0: implementation = .automatic
        case 1: implementation = .reference
        case 2: implementation = .fast
        default:
            throw .invalidArgument(argument: "implementation", expected: "0 (automatic), 1 (reference) or 2 (fast)",
                                   actual: "\(settings.implementation)")
        }
        switch settings.checking {
        case 0: checking = .eager
        case 1: checking = .deferred
        default: throw .invalidArgument(argument: "checking", expected: "0 (eager) or 1 (deferred)", actual: "\(settings.checking)")
        }
    }

    /// True when the call only plans its workspace.
    var planning: Bool { settings.plan_only != 0 }

    /// Runs `body`, whose operations run on `device`: on the CPU directly (a plan needs no
    /// workspace there); on a GPU on the caller's stream, with the caller's checking mode and
    /// workspace, or as a planning run that records the workspace it needs.
    func run(on device: Device, _ body: () throws(DNLSError) -> Void) throws(DNLSError) {
        guard case .cuda = device else {
            if planning { pointer?.pointee.workspace_needed = 0 } else { try body() }
            return
        }
        let stream = try GPUStream(borrowing: UInt(settings.stream), on: device)
        try withStream(stream, checking: checking) { () throws(DNLSError) in
            if planning {
                let bytes = try GPUWorkspace.bytesNeeded(on: device, for: body)
                pointer?.pointee.workspace_needed = UInt64(bytes)
            } else if let base = settings.workspace {
                let workspace = try GPUWorkspace(unsafeAddress: UInt(bitPattern: base),
                                                 byteCount: Int(clamping: settings.workspace_bytes), on: device)
                try withWorkspace(workspace, body)
            } else {
                try body()
            }
        }
    }
}

/// Runs the generic `body` for the floating-point type of `tensor`.
protocol FloatGeneric {
    func run<S: PatchScalar>(_: S.Type) throws(DNLSError)
}

extension ABITensor {
    func dispatch(_ body: some FloatGeneric) throws(DNLSError) {
        switch try floatType() {
        case .float: try body.run(Float.self)
        case .double: try body.run(Double.self)
        }
    }
}
