import CUDADriver
internal import CDNLSKernels

/// Flow estimation's steps on the GPU (kernels in ``CUDAKernelSource/flow``): one launch each on
/// the call's stream, nothing copied to the host.
extension CUDABackend: FlowKernels {
    /// The widest median window the kernel holds (`FLOW_MEDIAN_MAX` values, radius 7); wider
    /// ones run on the host.
    static let flowMedianMax = 225

    package func blurred(_ values: Tensor<Float>, planes: Int, height: Int, width: Int, taps: [Float]) throws(DNLSError) -> Tensor<Float> {
        let table = try Tensor(uncheckedShape: [taps.count], scalars: taps).to(device)
        let across: Tensor<Float> = try Tensor(uninitializedOn: device, shape: values.shape)
        let out: Tensor<Float> = try Tensor(uninitializedOn: device, shape: values.shape)
        for (along, source, target) in [(Int32(0), values, across), (1, across, out)] {
            try launch(.flowBlur, count: values.count, parameters: DNLSFlowBlur(
                in: pointer(source), out: pointer(target), taps: pointer(table), planes: Int64(planes), H: Int32(height),
                W: Int32(width), reach: Int32(taps.count / 2), along: along))
        }
        return out
    }

    package func halved(_ values: Tensor<Float>, planes: Int, height: Int, width: Int) throws(DNLSError) -> Tensor<Float> {
        let (h2, w2) = ((height + 1) / 2, (width + 1) / 2)
        let out: Tensor<Float> = try Tensor(uninitializedOn: device, shape: [planes, h2, w2])
        try launch(.flowHalve, count: out.count, parameters: DNLSFlowHalve(
            in: pointer(values), out: pointer(out), planes: Int64(planes), H: Int32(height), W: Int32(width),
            H2: Int32(h2), W2: Int32(w2)))
        return out
    }

    package func doubled(_ flows: Tensor<Int32>, height: Int, width: Int, toHeight: Int, toWidth: Int) throws(DNLSError) -> Tensor<Int32> {
        let n = flows.count / max(1, height * width)
        let out: Tensor<Int32> = try Tensor(uninitializedOn: device, shape: [n / 2, 2, toHeight, toWidth])
        try launch(.flowDouble, count: out.count, parameters: DNLSFlowDouble(
            in: pointer(flows), out: pointer(out), n: Int64(n), h: Int32(height), w: Int32(width), H: Int32(toHeight),
            W: Int32(toWidth)))
        return out
    }

    package func medianFiltered(_ flows: Tensor<Int32>, height: Int, width: Int, radius: Int) throws(DNLSError) -> Tensor<Int32> {
        guard radius > 0 else { return flows }
        guard (2 * radius + 1) * (2 * radius + 1) <= Self.flowMedianMax else {
            return try HostFlowKernels().medianFiltered(flows, height: height, width: width, radius: radius)
        }
        let out: Tensor<Int32> = try Tensor(uninitializedOn: device, shape: flows.shape)
        try launch(.flowMedian, count: flows.count, parameters: DNLSFlowMedian(
            in: pointer(flows), out: pointer(out), n: Int64(flows.count / max(1, height * width)), H: Int32(height),
            W: Int32(width), radius: Int32(radius)))
        return out
    }

    package func clips(_ level: Tensor<Float>, pairs: FlowPairs, first: Int, count: Int, predicted: Tensor<Int32>,
               channels: Int, height: Int, width: Int) throws(DNLSError) -> (video: Tensor<Float>, keys: Tensor<Float>, moves: Tensor<Float>)
    {
        let clip = [count, 2, channels, height, width]
        let video: Tensor<Float> = try Tensor(uninitializedOn: device, shape: clip)
        let keys: Tensor<Float> = try Tensor(uninitializedOn: device, shape: clip)
        let moves: Tensor<Float> = try Tensor(uninitializedOn: device, shape: [count, 2, 2, height, width])
        try launch(.flowClip, count: max(video.count, moves.count), parameters: DNLSFlowClip(
            level: pointer(level), predicted: pointer(predicted), video: pointer(video), keys: pointer(keys),
            moves: pointer(moves), first: Int64(first), P: Int32(count), B: Int32(pairs.batch), T: Int32(pairs.frames),
            C: Int32(channels), H: Int32(height), W: Int32(width)))
        return (video, keys, moves)
    }

    package func update(_ flows: inout Tensor<Int32>, indices: Tensor<Int32>, first: Int, count: Int, batch: Range<Int>,
                height: Int, width: Int) throws(DNLSError) {
        try flows.makeDeviceStorageUnique()
        try launch(.flowUpdate, count: count * batch.count, parameters: DNLSFlowUpdate(
            indices: pointer(indices), flows: pointer(flows), first: Int64(first), start: Int64(batch.lowerBound),
            P: Int32(count), n: Int32(batch.count), H: Int32(height), W: Int32(width)))
    }

    package func assembled(_ flows: Tensor<Int32>, pairs: FlowPairs, plane: Int) throws(DNLSError) -> (forward: Tensor<Float>, backward: Tensor<Float>) {
        let shape = [pairs.batch * pairs.frames, 2, plane]
        let forward: Tensor<Float> = try Tensor(uninitializedOn: device, shape: shape)
        let backward: Tensor<Float> = try Tensor(uninitializedOn: device, shape: shape)
        try launch(.flowAssemble, count: forward.count, parameters: DNLSFlowAssemble(
            flows: pointer(flows), forward: pointer(forward), backward: pointer(backward), B: Int32(pairs.batch),
            T: Int32(pairs.frames), plane: Int64(plane)))
        return (forward, backward)
    }
}
