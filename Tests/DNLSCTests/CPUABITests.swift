import CDNLSABI
import DNLS
import DNLSC
import CABITestSupport
import Testing

/// The C ABI on CPU tensors, called as a C caller would: results equal the Swift API's, strided
/// inputs are read through their strides, and every error comes back as a status and a sentence
/// naming the argument.
@Suite struct CPUABITests {
    let geometry = DNLSGeometry(patch_size: 3, dilation: 1, anchor: 0, border: 0)

    private func random(_ count: Int) -> [Float] { (0..<count).map { _ in Float.random(in: -1..<1) } }

    @Test func theVersionIsTheHeaders() {
        #expect(dnlsABIVersion() == Int32(DNLS_ABI_VERSION))
        var text = [CChar](repeating: 0x7F, count: 16)
        #expect(dnlsLibraryVersion(&text, 16) == Int32(DNLS_OK))
        #expect(String(cString: text) == DNLSVersion.string)
    }

    @Test func aScatterOfAStridedVideoEqualsTheSwiftAPIOnItsContiguousCopy() throws {
        // A (1, 2, 5, 6) video stored transposed: element (t, c, h, w) at t·60 + c + 2·(h·6 + w).
        let (C, H, W) = (2, 5, 6)
        var storage = random(C * H * W)
        var contiguous = [Float](repeating: 0, count: storage.count)
        for c in 0..<C { for p in 0..<H * W { contiguous[c * H * W + p] = storage[c + 2 * p] } }
        var triples: [Int32] = [0, 0, 0, 0, 4, 5, 0, 2, 3, 0, 1, 0]
        var patches = [Float](repeating: .nan, count: 4 * C * 9)
        let record = ABICallRecord()
        let status = storage.withUnsafeMutableBytes { v in
            triples.withUnsafeMutableBytes { i in
                patches.withUnsafeMutableBytes { p in
                    let video = ABIDescriptor(data: v.baseAddress, shape: [1, C, H, W], strides: [60, 1, 2 * W, 2])
                    let indices = ABIDescriptor(data: i.baseAddress, shape: [2, 2, 3], code: Int32(DNLS_DTYPE_INT))
                    let out = ABIDescriptor(data: p.baseAddress, shape: [2, 2, C, 3, 3])
                    var g = geometry
                    return dnlsScatterForward(&g, &video.tensor, &indices.tensor, &out.tensor, &record.call)
                }
            }
        }
        #expect(status == Int32(DNLS_OK), "\(record.message)")
        #expect(record.message == "")
        let expected = try PatchScatter(geometry: PatchGeometry(patchSize: 3))(
            try Tensor(shape: [1, C, H, W], scalars: contiguous), indices: try Tensor(shape: [2, 2, 3], scalars: triples))
        #expect(patches == expected.scalars)
    }

    @Test func aFoldAccumulatesIntoTheCallersVideoWhenAsked() throws {
        let grid = DNLSQueries(kind: 0, t0: 0, t1: 1, top: 0, bottom: 4, left: 0, right: 4, stride: 2, full_patches: 0,
                               start: 0, count: -1, positions: nil)
        var patches = [Double](repeating: 1, count: 4 * 9)
        var video = [Double](repeating: 10, count: 16)
        let record = ABICallRecord()
        for accumulate: Int32 in [1, 0] {
            video = [Double](repeating: 10, count: 16)
            let status = patches.withUnsafeMutableBytes { p in
                video.withUnsafeMutableBytes { v in
                    let input = ABIDescriptor(data: p.baseAddress, shape: [4, 1, 1, 3, 3], bits: 64)
                    let out = ABIDescriptor(data: v.baseAddress, shape: [1, 1, 4, 4], bits: 64)
                    var g = geometry, q = grid
                    return dnlsFoldForward(&g, &q, &input.tensor, &out.tensor, accumulate, &record.call)
                }
            }
            #expect(status == Int32(DNLS_OK), "\(record.message)")
            let counts = try PatchFold(geometry: PatchGeometry(patchSize: 3))(
                try Tensor<Double>(repeating: 1, shape: [4, 1, 1, 3, 3]),
                grid: try QueryGrid(region: .whole(frames: 1, height: 4, width: 4), stride: 2), videoShape: [1, 1, 4, 4])
            #expect(video == counts.scalars.map { $0 + (accumulate == 1 ? 10 : 0) })
        }
    }

    @Test func errorsComeBackAsAStatusAndASentenceNamingTheArgument() {
        var video = random(16)
        var triples: [Int32] = [0, 7, 0]
        var patches = [Float](repeating: 0, count: 9)
        func scatter(indexShape: [Int] = [1, 1, 3], code: Int32 = Int32(DNLS_DTYPE_FLOAT), bits: UInt8 = 32,
                     patchShape: [Int] = [1, 1, 1, 3, 3], capacity: Int = 512, nullVideo: Bool = false) -> (Int32, String) {
            let record = ABICallRecord(capacity: capacity)
            let status = video.withUnsafeMutableBytes { v in
                triples.withUnsafeMutableBytes { i in
                    patches.withUnsafeMutableBytes { p in
                        let input = ABIDescriptor(data: v.baseAddress, shape: [1, 1, 4, 4], code: code, bits: bits)
                        let indices = ABIDescriptor(data: i.baseAddress, shape: indexShape, code: Int32(DNLS_DTYPE_INT))
                        let out = ABIDescriptor(data: p.baseAddress, shape: patchShape, code: code, bits: bits)
                        var g = geometry
                        return nullVideo ? dnlsScatterForward(&g, nil, &indices.tensor, &out.tensor, &record.call)
                            : dnlsScatterForward(&g, &input.tensor, &indices.tensor, &out.tensor, &record.call)
                    }
                }
            }
            return (status, record.message)
        }
        let outside = scatter()
        #expect(outside.0 == Int32(DNLS_OUT_OF_RANGE))
        #expect(outside.1.hasPrefix("`indices` out of range: (0, 7, 0)"))
        triples = [0, 1, 2]
        let half = scatter(bits: 16)
        #expect(half.0 == Int32(DNLS_INVALID_ARGUMENT))
        #expect(half.1.contains("`video`") && half.1.contains("float16"))
        let missing = scatter(nullVideo: true)
        #expect(missing.0 == Int32(DNLS_INVALID_ARGUMENT) && missing.1.contains("`video`"))
        let wrongOutput = scatter(patchShape: [1, 1, 1, 3, 4])
        #expect(wrongOutput.0 == Int32(DNLS_SHAPE_MISMATCH) && wrongOutput.1.contains("`patches`"))
        let wrongIndices = scatter(indexShape: [1, 3])
        #expect(wrongIndices.0 == Int32(DNLS_SHAPE_MISMATCH) && wrongIndices.1.contains("`indices`"))
        // A short buffer gets a prefix that is still valid UTF-8 (the message holds "×").
        triples = [0, 7, 0]
        let long = scatter().1
        for capacity in 1..<long.utf8.count + 2 {
            let short = scatter(capacity: capacity).1
            #expect(short.utf8.count < capacity && long.hasPrefix(short))
        }
    }

    @Test func queryCountsAndSearchSlotsNeedNoData() {
        let record = ABICallRecord()
        var g = geometry
        var count: Int64 = -1
        var grid = DNLSQueries(kind: 0, t0: 0, t1: 2, top: 0, bottom: 10, left: 0, right: 12, stride: 3, full_patches: 0,
                               start: 5, count: -1, positions: nil)
        #expect(dnlsQueryCount(&grid, &g, 2, 10, 12, &count, &record.call) == Int32(DNLS_OK))
        #expect(count == 2 * 4 * 4 - 5)
        grid.full_patches = 1
        grid.start = 0
        #expect(dnlsQueryCount(&grid, &g, 2, 10, 12, &count, &record.call) == Int32(DNLS_OK))
        #expect(count == 2 * 3 * 4)  // rows (10 − 3)/3 + 1, columns (12 − 3)/3 + 1
        grid.bottom = 11
        #expect(dnlsQueryCount(&grid, &g, 2, 10, 12, &count, &record.call) == Int32(DNLS_OUT_OF_RANGE))
        #expect(record.message.contains("`grid.region`"))
        var search = DNLSSearch(geometry: geometry, window_size: 5, window_stride: 1, temporal_radius: 3, k: 0, metric: 0,
                                channels: 0)
        var slots: Int64 = -1
        #expect(dnlsSearchSlots(&search, 2, 10, 12, &slots, &record.call) == Int32(DNLS_OK))
        #expect(slots == 2 * 25)
        search.k = 7
        #expect(dnlsSearchSlots(&search, 2, 10, 12, &slots, &record.call) == Int32(DNLS_OK) && slots == 7)
    }
}
