/// Optical flows of a video: `forward[b, t]` moves frame `t` to `t + 1`, `backward[b, t]` moves
/// frame `t` to `t − 1`. Each is `(B, T, 2, H, W)` (or `(T, 2, H, W)`): channel 0 displaces the
/// column (x), channel 1 the row (y). A missing flow means zero displacement.
public struct Flows<Scalar: PatchScalar>: Sendable {
    /// Displacement from frame `t` to `t + 1`, `(B, T, 2, H, W)`; `nil` means zero.
    public var forward: Tensor<Scalar>?
    /// Displacement from frame `t` to `t − 1`, `(B, T, 2, H, W)`; `nil` means zero.
    public var backward: Tensor<Scalar>?

    /// Flows in either or both directions.
    public init(forward: Tensor<Scalar>? = nil, backward: Tensor<Scalar>? = nil) {
        self.forward = forward
        self.backward = backward
    }

    /// No flow in either direction: windows stay centred on the query position in every frame.
    public static var none: Flows { Flows() }

    /// True when both flows are absent (every window centre equals the query position).
    public var isZero: Bool { forward == nil && backward == nil }
}

/// Centres of a query's search window in each visited frame, chained hop by hop.
///
/// The query frame's centre is the query itself. Frame `n ≠ t` starts from the centre of the
/// previous link (`n − 1` going forward, `n + 1` going backward), samples the flow of that frame
/// at that integer position, adds it (x to the column, y to the row), rounds half up and clamps
/// into the frame. This is the one definition shared by every backend.
struct FlowChain<Scalar: PatchScalar> {
    let forward: [Scalar]?
    let backward: [Scalar]?
    let frames: Int, height: Int, width: Int

    init(_ flows: Flows<Scalar>, frames: Int, height: Int, width: Int) {
        forward = flows.forward?.scalars
        backward = flows.backward?.scalars
        self.frames = frames; self.height = height; self.width = width
    }

    /// Writes the window centre of every slot of `range`'s visiting order into `centres`
    /// (which must have room for `range.count` positions).
    func centres(batch b: Int, query: Position, window: SearchWindow, range: Range<Int>,
                 into centres: inout [Position]) {
        centres[0] = query
        let later = range.upperBound - query.t
        let plane = height * width
        for slot in 1..<range.count {
            let n = window.frame(slot: slot, queryFrame: query.t, range: range)
            let goingForward = n > query.t
            // The previous link: frame n − 1 going forward, n + 1 going backward. The first
            // backward slot links to the query frame (slot 0); every other slot to the slot before.
            let previous = slot == later ? centres[0] : centres[slot - 1]
            guard let flow = goingForward ? forward : backward else {
                centres[slot] = Position(t: n, h: previous.h, w: previous.w)
                continue
            }
            let base = ((b * frames + previous.t) * 2) * plane + previous.h * width + previous.w
            let dx = flow[base], dy = flow[base + plane]
            centres[slot] = Position(t: n, h: Self.hop(previous.h, dy, height), w: Self.hop(previous.w, dx, width))
        }
    }

    /// `clamp(floor(x + d + 0.5), 0, length − 1)` computed in the flow's precision (the rule the
    /// kernels share, ``PatchScalar/flowHop(_:_:last:)``).
    @inline(__always)
    static func hop(_ x: Int, _ d: Scalar, _ length: Int) -> Int {
        Int(Scalar.flowHop(Scalar(x), d, last: Scalar(length - 1)))
    }
}
