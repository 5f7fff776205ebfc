import CCUDA
import CDNLSABI
@testable import CUDADriver
@testable import DNLS
import DNLSC
import CABITestSupport
import Testing

/// The C ABI on GPU tensors, against the fake driver table, as a framework would call it: on the
/// caller's stream, in a workspace of the size the plan gave, results at the caller's addresses,
/// no allocation, no host wait under deferred checking. Part of the serialised `FakeDriverTests`.
extension FakeDriverTests {
    /// A GPU descriptor of `shape` at `address` on `ordinal`.
    private func descriptor(_ address: CUdeviceptr, _ shape: [Int], ordinal: Int, int: Bool = false) -> (DNLSTensor, UnsafeMutablePointer<Int64>) {
        let dims = UnsafeMutablePointer<Int64>.allocate(capacity: shape.count)
        for (i, n) in shape.enumerated() { dims[i] = Int64(n) }
        let tensor = DNLSTensor(data: UnsafeMutableRawPointer(bitPattern: UInt(address)),
                                device: DNLSDevice(device_type: Int32(DNLS_DEVICE_CUDA), device_id: Int32(ordinal)),
                                ndim: Int32(shape.count),
                                dtype: DNLSDataType(code: UInt8(int ? DNLS_DTYPE_INT : DNLS_DTYPE_FLOAT), bits: 32, lanes: 1),
                                shape: dims, strides: nil, byte_offset: 0)
        return (tensor, dims)
    }

    @Test func theCABIRunsOnTheCallersStreamInAPlannedWorkspaceAndAllocatesNothing() throws {
        let ordinal = 12
        _ = try fakeDevice(ordinal: ordinal)
        let (T, C, H, W, Q, K) = (2, 2, 8, 8, 128, 2)
        let memory = { (bytes: Int) throws -> CUdeviceptr in try #require(Fake.bumpAllocate(bytes)) }
        var (video, v) = descriptor(try memory(T * C * H * W * 4), [T, C, H, W], ordinal: ordinal)
        var (distances, d) = descriptor(try memory(Q * K * 4), [Q, K], ordinal: ordinal)
        var (indices, i) = descriptor(try memory(Q * K * 12), [Q, K, 3], ordinal: ordinal, int: true)
        var (wrong, w) = descriptor(try memory(Q * K * 4), [Q, K + 1], ordinal: ordinal)
        defer { [v, d, i, w].forEach { $0.deallocate() } }
        var search = DNLSSearch(geometry: DNLSGeometry(patch_size: 3, dilation: 1, anchor: 0, border: 0), window_size: 3,
                                window_stride: 1, temporal_radius: 1, k: Int32(K), metric: 0, channels: 0)
        var grid = DNLSQueries(kind: 0, t0: 0, t1: Int32(T), top: 0, bottom: Int32(H), left: 0, right: Int32(W), stride: 1,
                               full_patches: 0, start: 0, count: -1, positions: nil)
        let handle: UInt64 = 0x5A_0000
        let record = ABICallRecord()
        record.call.stream = handle
        record.call.checking = 1
        // A first call compiles the kernels and makes the geometry blocks (kept across calls).
        #expect(dnlsSearchForward(&search, &video, nil, &grid, nil, nil, &distances, &indices, &record.call) == 0, "\(record.message)")

        let launches = Fake.count(.launch)
        record.call.plan_only = 1
        #expect(dnlsSearchForward(&search, &video, nil, &grid, nil, nil, &distances, &indices, &record.call) == 0, "\(record.message)")
        let bytes = Int(record.call.workspace_needed)
        #expect(bytes > 0 && bytes % GPUWorkspace.alignment == 0)
        #expect(Fake.count(.launch) == launches)

        record.call.plan_only = 0
        record.call.workspace = UnsafeMutableRawPointer(bitPattern: UInt(try memory(bytes)))
        record.call.workspace_bytes = UInt64(bytes)
        let allocated = Fake.count(.memAlloc) + Fake.count(.memAllocAsync), frees = Fake.count(.memFreeAsync)
        Fake.streamCalls = []
        Fake.hostWaits = []
        #expect(dnlsSearchForward(&search, &video, nil, &grid, nil, nil, &distances, &indices, &record.call) == 0, "\(record.message)")
        #expect(Fake.count(.launch) > launches)
        #expect(Fake.count(.memAlloc) + Fake.count(.memAllocAsync) == allocated)
        #expect(Fake.count(.memFreeAsync) == frees)
        #expect(Fake.hostWaits == [])
        let strays = Fake.streamCalls.filter { UInt64(UInt(bitPattern: $0.stream.map { UnsafeRawPointer($0) })) != handle }
        #expect(strays.map(\.call) == [])

        // One block less does not fit; an output of the wrong size is refused, naming it.
        record.call.workspace_bytes = UInt64(bytes - GPUWorkspace.alignment)
        #expect(dnlsSearchForward(&search, &video, nil, &grid, nil, nil, &distances, &indices, &record.call)
            == Int32(DNLS_WORKSPACE_TOO_SMALL))
        record.call.workspace_bytes = UInt64(bytes)
        let before = Fake.count(.launch)
        #expect(dnlsSearchForward(&search, &video, nil, &grid, nil, nil, &wrong, &indices, &record.call)
            == Int32(DNLS_SHAPE_MISMATCH))
        #expect(record.message.contains("`result.distances`"))
        #expect(Fake.count(.launch) == before)
        // A float64 GPU tensor is refused before anything runs.
        video.dtype.bits = 64
        #expect(dnlsSearchForward(&search, &video, nil, &grid, nil, nil, &distances, &indices, &record.call)
            == Int32(DNLS_INVALID_ARGUMENT))
        #expect(record.message.contains("`video`") && record.message.contains("float64"))
    }
}
