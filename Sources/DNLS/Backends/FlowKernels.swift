/// The frame pairs of a flow estimate over `batch` videos of `frames` frames (frames numbered
/// `b · frames + t`): every forward pair `(t, t + 1)`, then every backward one `(t, t − 1)`. The
/// GPU kernels (`flow_pair`) number them by the same rule.
package struct FlowPairs: Sendable, Hashable {
    package let batch: Int, frames: Int

    package init(batch: Int, frames: Int) { (self.batch, self.frames) = (batch, frames) }

    package var count: Int { 2 * batch * max(0, frames - 1) }

    /// Pair `p`'s frame and the frame it is matched in.
    package func pair(_ p: Int) -> (frame: Int, target: Int) {
        let steps = frames - 1, forward = batch * steps
        if p < forward { return (p / steps * frames + p % steps, p / steps * frames + p % steps + 1) }
        let r = p - forward, frame = r / steps * frames + r % steps + 1
        return (frame, frame - 1)
    }
}

/// The steps of flow estimation around its searches, on the device of their tensors: on a GPU
/// each is a kernel and an estimate never leaves the device. Flows are whole pixels, `Int32`
/// `(N, 2, h, w)`, channel 0 moving the column and 1 the row. The GPU's float sums repeat the
/// host's in the same order, so both give the same flows bit for bit.
package protocol FlowKernels: Sendable {
    /// `planes` planes of `height × width` convolved with `taps` (odd, centred) along the rows,
    /// then the result along the columns, the border replicated.
    func blurred(_ values: Tensor<Float>, planes: Int, height: Int, width: Int, taps: [Float]) throws(DNLSError) -> Tensor<Float>

    /// The planes at half the size (rounded up): the mean of each 2 × 2 block's pixels.
    func halved(_ values: Tensor<Float>, planes: Int, height: Int, width: Int) throws(DNLSError) -> Tensor<Float>

    /// Flows at twice the size, `toHeight × toWidth`: each pixel takes its coarse pixel's
    /// displacement, doubled.
    func doubled(_ flows: Tensor<Int32>, height: Int, width: Int, toHeight: Int, toWidth: Int) throws(DNLSError) -> Tensor<Int32>

    /// Each component replaced by its median over the `(2·radius + 1)²` window (clipped at the
    /// border; the lower middle value of an even count).
    func medianFiltered(_ flows: Tensor<Int32>, height: Int, width: Int, radius: Int) throws(DNLSError) -> Tensor<Int32>

    /// The two-frame clips of pairs `first ..< first + count` at a level `(frames, C, h, w)`:
    /// the query video (the frame, its target), the keys (the target twice) and the moves (the
    /// pair's predicted flow from the frame, none from the target).
    func clips(_ level: Tensor<Float>, pairs: FlowPairs, first: Int, count: Int, predicted: Tensor<Int32>,
               channels: Int, height: Int, width: Int) throws(DNLSError) -> (video: Tensor<Float>, keys: Tensor<Float>, moves: Tensor<Float>)

    /// The displacements a K = 1 search found (`indices` `(count, n, 1, 3)`, for queries
    /// `batch` of the `height × width` grid) written into the flows of pairs `first ..< first + count`;
    /// a query without a candidate keeps its flow.
    func update(_ flows: inout Tensor<Int32>, indices: Tensor<Int32>, first: Int, count: Int, batch: Range<Int>,
                height: Int, width: Int) throws(DNLSError)

    /// The pairs' flows as forward and backward flows `(batch · frames, 2, height · width)`,
    /// zero where a frame has no pair.
    func assembled(_ flows: Tensor<Int32>, pairs: FlowPairs, plane: Int) throws(DNLSError) -> (forward: Tensor<Float>, backward: Tensor<Float>)
}

/// The flow steps for tensors on `device`.
package func flowKernels(device: Device) throws(DNLSError) -> any FlowKernels {
    if case let .cuda(ordinal) = device { return try CUDABackend(ordinal: ordinal) }
    return HostFlowKernels()
}

/// The flow steps in host memory, in parallel over planes or rows.
package struct HostFlowKernels: FlowKernels {
    package init() {}

    package func blurred(_ tensor: Tensor<Float>, planes: Int, height: Int, width: Int, taps: [Float]) throws(DNLSError) -> Tensor<Float> {
        let values = try tensor.hostElements(), reach = taps.count / 2
        var across = [Float](repeating: 0, count: values.count), out = across
        across.withUnsafeMutableBufferPointer { acrossBuffer in
            out.withUnsafeMutableBufferPointer { outBuffer in
                let across = UncheckedSendable(acrossBuffer.baseAddress!), out = UncheckedSendable(outBuffer.baseAddress!)
                fastParallelFor(planes) { p in  // each plane writes only its own values
                    let base = p * height * width
                    for y in 0..<height {
                        for x in 0..<width {
                            var sum: Float = 0
                            for (i, tap) in taps.enumerated() { sum += tap * values[base + y * width + min(max(x + i - reach, 0), width - 1)] }
                            across.value[base + y * width + x] = sum
                        }
                    }
                    for y in 0..<height {
                        for x in 0..<width {
                            var sum: Float = 0
                            for (i, tap) in taps.enumerated() {
                                sum += tap * across.value[base + min(max(y + i - reach, 0), height - 1) * width + x]
                            }
                            out.value[base + y * width + x] = sum
                        }
                    }
                }
            }
        }
        return try Tensor(uncheckedShape: tensor.shape, scalars: out).to(tensor.device)
    }

    package func halved(_ tensor: Tensor<Float>, planes: Int, height h: Int, width w: Int) throws(DNLSError) -> Tensor<Float> {
        let values = try tensor.hostElements()
        let (h2, w2) = ((h + 1) / 2, (w + 1) / 2)
        var out = [Float](repeating: 0, count: planes * h2 * w2)
        out.withUnsafeMutableBufferPointer { buffer in
            let out = UncheckedSendable(buffer.baseAddress!)
            fastParallelFor(planes) { p in
                for y in 0..<h2 {
                    for x in 0..<w2 {
                        var sum: Float = 0, count: Float = 0
                        for yy in 2 * y ..< min(2 * y + 2, h) {
                            for xx in 2 * x ..< min(2 * x + 2, w) { sum += values[(p * h + yy) * w + xx]; count += 1 }
                        }
                        out.value[(p * h2 + y) * w2 + x] = sum / count
                    }
                }
            }
        }
        return try Tensor(uncheckedShape: [planes, h2, w2], scalars: out).to(tensor.device)
    }

    package func doubled(_ tensor: Tensor<Int32>, height: Int, width: Int, toHeight h: Int, toWidth w: Int) throws(DNLSError) -> Tensor<Int32> {
        let flow = try tensor.hostElements(), n = flow.count / max(1, height * width)
        var out = [Int32](repeating: 0, count: n * h * w)
        for c in 0..<n {
            for y in 0..<h {
                for x in 0..<w {
                    out[(c * h + y) * w + x] = 2 * flow[(c * height + min(y / 2, height - 1)) * width + min(x / 2, width - 1)]
                }
            }
        }
        return try Tensor(uncheckedShape: [n / 2, 2, h, w], scalars: out).to(tensor.device)
    }

    package func medianFiltered(_ tensor: Tensor<Int32>, height: Int, width: Int, radius: Int) throws(DNLSError) -> Tensor<Int32> {
        guard radius > 0 else { return tensor }
        let flow = try tensor.hostElements(), n = flow.count / max(1, height * width)
        var out = flow
        let side = 2 * radius + 1
        out.withUnsafeMutableBufferPointer { buffer in
            let out = UncheckedSendable(buffer.baseAddress!)
            // One task per plane and row, each with its own window buffer, writing its row only.
            fastParallelFor(n * height) { task in
                let (c, y) = (task / height, task % height)
                withUnsafeTemporaryAllocation(of: Int32.self, capacity: side * side) { window in
                    for x in 0..<width {
                        var n = 0
                        for yy in max(0, y - radius)...min(height - 1, y + radius) {
                            for xx in max(0, x - radius)...min(width - 1, x + radius) {
                                // Insertion into the sorted prefix: at most 25 values for radius 2.
                                let v = flow[(c * height + yy) * width + xx]
                                var i = n
                                while i > 0 && window[i - 1] > v { window[i] = window[i - 1]; i -= 1 }
                                window[i] = v
                                n += 1
                            }
                        }
                        out.value[(c * height + y) * width + x] = window[(n - 1) / 2]
                    }
                }
            }
        }
        return try Tensor(uncheckedShape: tensor.shape, scalars: out).to(tensor.device)
    }

    package func clips(_ level: Tensor<Float>, pairs: FlowPairs, first: Int, count: Int, predicted: Tensor<Int32>,
               channels: Int, height: Int, width: Int) throws(DNLSError) -> (video: Tensor<Float>, keys: Tensor<Float>, moves: Tensor<Float>)
    {
        let values = try level.hostElements(), flows = try predicted.hostElements()
        let plane = height * width, frame = channels * plane
        var video = [Float](), keys = [Float](), moves = [Float](repeating: 0, count: count * 4 * plane)
        video.reserveCapacity(count * 2 * frame); keys.reserveCapacity(count * 2 * frame)
        for m in 0..<count {
            let (source, target) = pairs.pair(first + m)
            video += values[source * frame ..< (source + 1) * frame]; video += values[target * frame ..< (target + 1) * frame]
            keys += values[target * frame ..< (target + 1) * frame]; keys += values[target * frame ..< (target + 1) * frame]
            for i in 0..<2 * plane { moves[m * 4 * plane + i] = Float(flows[(first + m) * 2 * plane + i]) }
        }
        let clip = [count, 2, channels, height, width]
        return (try Tensor(uncheckedShape: clip, scalars: video).to(level.device),
                try Tensor(uncheckedShape: clip, scalars: keys).to(level.device),
                try Tensor(uncheckedShape: [count, 2, 2, height, width], scalars: moves).to(level.device))
    }

    package func update(_ flows: inout Tensor<Int32>, indices: Tensor<Int32>, first: Int, count: Int, batch: Range<Int>,
                height: Int, width: Int) throws(DNLSError) {
        let found = try indices.hostElements()  // (count, n, 1, 3): frame, row, column
        let plane = height * width, n = batch.count
        flows.scalars.withUnsafeMutableBufferPointer { flows in
            for m in 0..<count {
                for (j, q) in batch.enumerated() {
                    let at = (m * n + j) * 3
                    guard found[at] >= 0 else { continue }  // no candidate: keep the prediction
                    let (y, x) = (q / width, q % width), base = (first + m) * 2 * plane
                    flows[base + q] = found[at + 2] - Int32(x)
                    flows[base + plane + q] = found[at + 1] - Int32(y)
                }
            }
        }
    }

    package func assembled(_ tensor: Tensor<Int32>, pairs: FlowPairs, plane: Int) throws(DNLSError) -> (forward: Tensor<Float>, backward: Tensor<Float>) {
        let flows = try tensor.hostElements()
        var forward = [Float](repeating: 0, count: pairs.batch * pairs.frames * 2 * plane), backward = forward
        for p in 0..<pairs.count {
            let (frame, target) = pairs.pair(p)
            for i in 0..<2 * plane {
                let v = Float(flows[p * 2 * plane + i])
                if target > frame { forward[frame * 2 * plane + i] = v } else { backward[frame * 2 * plane + i] = v }
            }
        }
        let shape = [pairs.batch * pairs.frames, 2, plane]
        return (try Tensor(uncheckedShape: shape, scalars: forward).to(tensor.device),
                try Tensor(uncheckedShape: shape, scalars: backward).to(tensor.device))
    }
}
