import CCUDA
@testable import CUDADriver
@testable import DNLS
import Testing

/// Whole operations on a stream, against the fake driver table: every driver call that takes a
/// stream gets the caller's, and nothing makes the host wait. An extension of the serialised
/// `FakeDriverTests`, so it never runs beside another test that uses the fakes.
extension FakeDriverTests {
    /// `.cuda(ordinal)` on the pooled fake driver and the fake NVRTC.
    func fakeDevice(ordinal: Int) throws -> Device {
        Fake.deviceCount = Int32(ordinal + 1)
        let context = try CUDAContext(ordinal: ordinal, driver: Fake.pooledDriver)
        CUDARuntime.install(context: context, kernels: KernelCache(context: context, nvrtc: .success(Fake.nvrtc), directory: nil))
        return .cuda(ordinal)
    }

    func randomVideo(_ shape: [Int]) throws -> Tensor<Float> {
        try Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in Float.random(in: 0..<1) })
    }

    /// The calls recorded since the last reset that went to another stream than `stream`.
    private func strays(from stream: CUstream?) -> [String] {
        Fake.streamCalls.filter { $0.stream != stream }.map { "\($0.call) on \(String(describing: $0.stream))" }
    }

    @Test func everyOperationOnAStreamQueuesEveryCallThereAndNeverWaits() throws {
        let device = try fakeDevice(ordinal: 3)
        let stream = try GPUStream(on: device)
        #expect(stream.rawHandle == UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(Fake.stream))))
        let geometry = PatchGeometry(patchSize: 3)
        let grid = try QueryGrid(region: .whole(frames: 2, height: 8, width: 8))
        let host = try randomVideo([1, 2, 2, 8, 8])
        var triples: [Int32] = []
        for q in 0..<grid.count { triples += [Int32(q / 64), Int32(q / 8 % 8), Int32(q % 8)] }
        let hostIndices = try Tensor<Int32>(shape: [1, grid.count, 1, 3], scalars: triples)
        Fake.streamCalls = []
        Fake.hostWaits = []
        try withStream(stream, checking: .deferred) { () throws(DNLSError) in
            let video = try host.to(device), indices = try hostIndices.to(device)
            let search = PatchSearch(geometry: geometry, window: SearchWindow(size: 3, temporalRadius: 1), k: 2)
            let found = try search(video, queries: .grid(grid))
            _ = try search.backward(distanceGradient: found.distances, indices: found.indices, video: video, queries: .grid(grid))
            let patches = try PatchScatter(geometry: geometry)(video, indices: indices)
            let weights = try Tensor<Float>(repeating: 0.5, shape: [1, grid.count, 1]).to(device)
            _ = try PatchGather(geometry: geometry)(patches, weights: weights, indices: indices, videoShape: host.shape)
            _ = try WeightedPatchSum(geometry: geometry)(video, weights: weights, indices: indices)
            let unfolded = try PatchUnfold(geometry: geometry)(video, grid: grid)
            _ = try PatchFold(geometry: geometry)(unfolded, grid: grid, videoShape: host.shape)
        }
        // Every launch, copy, fill, allocation and free went to the stream, the frees of the
        // temporaries and of the results dropped at the scope's end included.
        #expect(Fake.count(.launch) > 10)
        #expect(Fake.streamCalls.contains { $0.call == "cuMemFreeAsync" })
        #expect(strays(from: Fake.stream) == [])
        #expect(Fake.hostWaits == [])
        // Deferred kernels may meet unchecked tables: they are the variants that test every position.
        #expect(Fake.compileOptions.contains("-DGUARDED=1"))
        // The caller's synchronisation is where the host waits (and reads the failure record).
        try stream.synchronize()
        #expect(Fake.hostWaits.contains("cuStreamSynchronize"))
        #expect(strays(from: Fake.stream) == [])
    }

    @Test func withoutAStreamEverythingStaysOnTheLegacyDefaultStream() throws {
        let device = try fakeDevice(ordinal: 4)
        let grid = try QueryGrid(region: .whole(frames: 2, height: 8, width: 8))
        let video = try randomVideo([2, 1, 8, 8]).to(device)
        Fake.streamCalls = []
        _ = try PatchUnfold(geometry: PatchGeometry(patchSize: 3))(video, grid: grid)
        #expect(!Fake.streamCalls.isEmpty)
        #expect(strays(from: nil) == [])
    }

    @Test func eagerCheckingOfAGPUIndexTensorWaitsOnTheStreamItRunsOn() throws {
        let device = try fakeDevice(ordinal: 5)
        let stream = try GPUStream(on: device)
        let video = try randomVideo([2, 1, 8, 8])
        let indices = try Tensor<Int32>(shape: [4, 1, 3], scalars: Array(repeating: 0, count: 12))
        Fake.streamCalls = []
        Fake.hostWaits = []
        try withStream(stream) { () throws(DNLSError) in
            _ = try PatchScatter(geometry: PatchGeometry(patchSize: 3))(try video.to(device), indices: try indices.to(device))
        }
        // The check's report comes back with a copy on the stream and a wait for that stream only.
        #expect(Fake.hostWaits == ["cuStreamSynchronize"])
        // The kernels run only after the check has passed: the variants without the full test.
        #expect(Fake.compileOptions.contains("-DGUARDED=0"))
        #expect(strays(from: Fake.stream) == [])
    }

    @Test func aDeferredFailureIsThrownByTheNextSynchronisationAsTheEagerErrorAndThenCleared() throws {
        let device = try fakeDevice(ordinal: 6)
        let runtime = try CUDARuntime.shared(ordinal: 6)
        let stream = try GPUStream(on: device)
        let video = try randomVideo([2, 1, 8, 8]).to(device)
        let indices = try Tensor<Int32>(shape: [4, 1, 3], scalars: Array(repeating: 0, count: 12)).to(device)
        try withStream(stream, checking: .deferred) { () throws(DNLSError) in
            _ = try PatchScatter(geometry: PatchGeometry(patchSize: 3))(video, indices: indices)
        }
        try stream.synchronize()  // the fake kernels record nothing: no failure
        // What the device's record_failure kernel writes for entry 2, (9, 0, -4), under the call's check.
        let check = DeviceCheck.triples(argument: "indices", frames: 2, height: 8, width: 8, allowMissing: true)
        let id = runtime.checkRegistry.withLock { $0.identifier(of: check) }
        #expect(id == 1)  // the scatter's check, registered once
        let record = try runtime.failureRecord(on: nil)
        let words: [Int32] = [id, 2, 0, 9, 0, -4, 0, 0]
        try words.withUnsafeBytes { bytes in try record.deviceStorage!.buffer.upload(bytes, on: nil) }
        let eager = positionError(9, 0, -4, entry: 2, video: try VideoShape(video: video, argument: "video"),
                                  argument: "indices", allowMissing: true)
        #expect(throws: eager) { try stream.synchronize() }
        try stream.synchronize()  // read once, then cleared
        try words.withUnsafeBytes { bytes in try record.deviceStorage!.buffer.upload(bytes, on: nil) }
        #expect(throws: eager) { try device.synchronize() }
        #expect(throws: Never.self) { try device.synchronize() }
    }
}

extension FakeDriverTests {
    /// A geometry block uploaded on one stream and used on another: a wait on the device while
    /// the upload is pending, none once it is done, and, on a stream capturing a CUDA graph (where
    /// the driver refuses to query events), an external-event wait instead of a query.
    @Test func aTableMadeOnOneStreamIsOrderedOnAnotherWithoutAQueryDuringCapture() throws {
        let device = try fakeDevice(ordinal: 13)
        let grid = try QueryGrid(region: .whole(frames: 2, height: 8, width: 8))
        let video = try randomVideo([2, 1, 8, 8]).to(device)
        let unfold = PatchUnfold(geometry: PatchGeometry(patchSize: 3))
        _ = try unfold(video, grid: grid)  // the geometry block, on the legacy default stream
        let other = try GPUStream(on: device)
        Fake.waitFlags = []
        Fake.eventsPending = true
        try withStream(other, checking: .deferred) { () throws(DNLSError) in _ = try unfold(video, grid: grid) }
        #expect(Fake.waitFlags == [0])
        Fake.eventsPending = false
        Fake.waitFlags = []
        try withStream(other, checking: .deferred) { () throws(DNLSError) in _ = try unfold(video, grid: grid) }
        #expect(Fake.waitFlags == [])
        Fake.capturing = true
        defer { Fake.capturing = false }
        try withStream(other, checking: .deferred) { () throws(DNLSError) in _ = try unfold(video, grid: grid) }
        #expect(Fake.waitFlags == [1])
    }
}
