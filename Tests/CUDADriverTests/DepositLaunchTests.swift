import CCUDA
@testable import CUDADriver
@testable import DNLS
import Testing

/// Which kernels a gather launches, against the fake driver (which records every launch's
/// name). Part of the serialised `FakeDriverTests`.
extension FakeDriverTests {
    /// A gather's video and its weight sum deposit the same sites: they share one anchor table per
    /// pass (one count, scan and sort), each then aggregated and folded on its own. (The stress
    /// tuning sends even this small gather through the table.)
    @Test func aGatherBuildsOneAnchorTableForTheVideoAndItsWeightSum() throws {
        try CUDATuning.with(.stress) { try gatherThroughTheTable() }
    }

    private func gatherThroughTheTable() throws {
        let device = try fakeDevice(ordinal: 14)
        let (Q, K) = (64, 2)
        var triples: [Int32] = []
        for q in 0..<Q * K { triples += [Int32(q % 2), Int32(q / 8 % 8), Int32(q % 8)] }
        let indices = try Tensor<Int32>(shape: [1, Q, K, 3], scalars: triples).to(device)
        let patches = try randomVideo([1, Q, K, 2, 3, 3]).to(device)
        let weights = try Tensor<Float>(repeating: 0.5, shape: [1, Q, K]).to(device)
        let gather = PatchGather(geometry: PatchGeometry(patchSize: 3))
        for weighted in [true, false] {
            _ = try gather(patches, weights: weighted ? weights : nil, indices: indices, videoShape: [1, 2, 2, 8, 8])
            Fake.launchedNames = []
            _ = try gather(patches, weights: weighted ? weights : nil, indices: indices, videoShape: [1, 2, 2, 8, 8])
            let launched = Fake.launchedNames
            #expect(launched.filter { $0 == "anchor_count" }.count == 1, "weighted \(weighted): \(launched)")
            #expect(launched.filter { $0 == "anchor_sort_big" }.count == 1, "weighted \(weighted): \(launched)")
            #expect(launched.filter { $0 == "aggregate_deposit" }.count == 2, "weighted \(weighted): \(launched)")
        }
    }

    /// A small gather (a few sites × entries per pixel) writes the video and its weight sum in one
    /// deposit_direct launch, with no anchor table and no zero fills; a large one builds the table.
    @Test func aSmallGatherAddsDirectlyInOneLaunch() throws {
        let device = try fakeDevice(ordinal: 14)
        let gather = PatchGather(geometry: PatchGeometry(patchSize: 3))
        var fills: [Int] = []
        for (Q, direct) in [(4, true), (200, false)] {
            let K = 2
            var triples: [Int32] = []
            for q in 0..<Q * K { triples += [Int32(q % 2), Int32(q / 8 % 8), Int32(q % 8)] }
            let indices = try Tensor<Int32>(shape: [1, Q, K, 3], scalars: triples).to(device)
            let patches = try randomVideo([1, Q, K, 2, 3, 3]).to(device)
            let weights = try Tensor<Float>(repeating: 0.5, shape: [1, Q, K]).to(device)
            _ = try gather(patches, weights: weights, indices: indices, videoShape: [1, 2, 2, 8, 8])
            Fake.launchedNames = []
            Fake.streamCalls = []
            _ = try gather(patches, weights: weights, indices: indices, videoShape: [1, 2, 2, 8, 8])
            let launched = Fake.launchedNames
            fills.append(Fake.streamCalls.filter { $0.0 == "cuMemsetD32Async" }.count)
            #expect(launched.filter { $0 == "deposit_direct" }.count == (direct ? 1 : 0), "Q \(Q): \(launched)")
            #expect(launched.contains("anchor_count") == !direct, "Q \(Q): \(launched)")
            #expect(!launched.contains("aggregate_deposit") == direct, "Q \(Q): \(launched)")
        }
        // The direct deposit stores every element of both outputs: the two zero fills of the
        // table path's outputs are left out (the input checks' report presets remain).
        #expect(fills[0] == fills[1] - 2, "fills: \(fills)")
    }

    /// Under deferred checking the small index and weight checks of one gather are queued
    /// together: one record_checks launch, then the deposit. Checks of large tensors launch on
    /// their own, in order.
    @Test func aDeferredGatherQueuesItsIndexAndWeightChecksAsOneLaunch() throws {
        let device = try fakeDevice(ordinal: 14)
        let gather = PatchGather(geometry: PatchGeometry(patchSize: 3))
        let stream = try GPUStream(on: device)
        for Q in [4, 8200] {
            let K = 2
            var triples: [Int32] = []
            for q in 0..<Q * K { triples += [Int32(q % 2), Int32(q / 8 % 8), Int32(q % 8)] }
            let indices = try Tensor<Int32>(shape: [1, Q, K, 3], scalars: triples).to(device)
            let patches = try Tensor<Float>(repeating: 0.25, shape: [1, Q, K, 1, 3, 3]).to(device)
            let weights = try Tensor<Float>(repeating: 0.5, shape: [1, Q, K]).to(device)
            func run() throws(DNLSError) {
                try withStream(stream, checking: .deferred) { () throws(DNLSError) in
                    _ = try gather(patches, weights: weights, indices: indices, videoShape: [1, 2, 1, 8, 8])
                }
            }
            try run()
            Fake.launchedNames = []
            try run()
            let launched = Fake.launchedNames
            if Q == 4 {
                #expect(launched == ["record_checks", "deposit_direct"], "\(launched)")
            } else {
                // 16 400 triples and weights: each a large check of its own launches, in order.
                #expect(Array(launched.prefix(4)) == ["first_invalid_triple", "record_first_triple", "first_nonfinite",
                                                      "record_failure"], "\(launched)")
                #expect(!launched.contains("record_checks"), "\(launched)")
            }
        }
    }
}
