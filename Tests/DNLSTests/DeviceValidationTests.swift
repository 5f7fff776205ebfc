@testable import DNLS
@testable import DNLSConformance
import Testing

/// Where validation runs: host tensors are checked on the host and handed to the CPU kernels as
/// host triples, exactly as before; GPU tensors are checked by device kernels and kept on the
/// device. The host half runs everywhere; the GPU half only where a GPU is found.
@Suite struct DeviceValidationTests {
    static let video = VideoShape(batch: 1, frames: 2, channels: 1, height: 7, width: 9, batched: false)

    @Test("Host index tensors are checked on the host and stay host triples")
    func hostIndicesStayOnTheHost() throws {
        let triples: [Int32] = [0, 1, 2, -1, -1, -1, 1, 6, 8, 0, 0, 0]
        let indices = try Tensor<Int32>(shape: [2, 2, 3], scalars: triples)
        guard case let .host(checked) = try checkedTriples(indices, video: Self.video, argument: "indices", allowMissing: true)
        else { Issue.record("a host tensor was not kept as host triples"); return }
        #expect(checked == triples)
        let sites = try neighbourSites(indices, video: Self.video)
        guard case let .neighbours(siteTriples) = sites.source else { Issue.record("host indices became \(sites.source)"); return }
        #expect(siteTriples == triples && sites.queries == 2 && sites.k == 2)
        guard case let .neighbours(again) = try sites.onHost().source else { Issue.record("onHost changed the source"); return }
        #expect(again == triples)
    }

    @Test("Host query positions are checked on the host and stay host triples")
    func hostQueriesStayOnTheHost() throws {
        let positions = try Tensor<Int32>(shape: [3, 3], scalars: [0, 0, 0, 1, 6, 8, 1, 2, 3])
        let list = try QueryList(.positions(positions), video: Self.video)
        guard case let .explicit(triples) = list.source else { Issue.record("host positions became \(list.source)"); return }
        #expect(triples == positions.scalars && list.count == 3)
        guard case .explicit = try list.onHost().source else { Issue.record("onHost changed the source"); return }
        let sites = PatchSites(positions: list)
        guard case .neighbours = sites.source else { Issue.record("host positions gave sites \(sites.source)"); return }
    }

    @Test("The host check keeps its error text: the first bad entry, marker allowed only for neighbours")
    func hostErrorText() throws {
        let indices = try Tensor<Int32>(shape: [4, 3], scalars: [0, 1, 2, -1, -1, -1, 0, 7, 0, 2, 0, 0])
        do {
            _ = try checkedTriples(indices, video: Self.video, argument: "indices", allowMissing: true)
            Issue.record("no error")
        } catch {
            #expect(error == .outOfRange(argument: "indices", value: "(0, 7, 0) at entry 2",
                                         valid: "the video [0, 2) × [0, 7) × [0, 9) or the marker (−1, −1, −1)"))
            #expect(error == positionError(0, 7, 0, entry: 2, video: Self.video, argument: "indices", allowMissing: true))
        }
        do {
            _ = try checkedTriples(indices, video: Self.video, argument: "queries", allowMissing: false)
            Issue.record("no error")
        } catch {
            #expect(error == .outOfRange(argument: "queries", value: "(-1, -1, -1) at entry 1",
                                         valid: "the video [0, 2) × [0, 7) × [0, 9)"))
        }
    }

    @Test("Non-finite values are reported at their multi-index, Float and Double alike")
    func nonFinitePositions() throws {
        #expect(multiIndex(0, shape: [2, 3, 4]) == [0, 0, 0])
        #expect(multiIndex(23, shape: [2, 3, 4]) == [1, 2, 3])
        #expect(multiIndex(13, shape: [2, 3, 4]) == [1, 0, 1])
        var values = [Double](repeating: 1, count: 24)
        values[13] = .nan; values[20] = .infinity
        #expect(throws: DNLSError.nonFinite(argument: "w", position: [1, 0, 1])) {
            try requireFinite(try Tensor<Double>(shape: [2, 3, 4], scalars: values), argument: "w")
        }
        try requireFinite(Tensor<Float>(zeros: [0, 3]), argument: "empty")
    }

    @Test("The device check's report word decodes to the first failing entry, or none")
    func reportWordDecoding() {
        #expect(CUDABackend.firstFailure([-1, -1, 0, 0, 0, 0]) == nil)
        #expect(CUDABackend.firstFailure([0, 0]) == 0)
        #expect(CUDABackend.firstFailure([123_457, 0]) == 123_457)
        #expect(CUDABackend.firstFailure([-1, 0]) == 0xFFFF_FFFF)
        #expect(CUDABackend.firstFailure([5, 1]) == (1 << 32) + 5)
    }

    @Test("A deferred check's registry numbers each distinct check once and reads it back")
    func checkRegistryNumbersChecksByContent() {
        var registry = CheckRegistry()
        let a = DeviceCheck.triples(argument: "indices", frames: 2, height: 7, width: 9, allowMissing: true)
        let b = DeviceCheck.finite(argument: "weights", shape: [3, 4])
        #expect(registry.identifier(of: a) == 1 && registry.identifier(of: b) == 2 && registry.identifier(of: a) == 1)
        #expect(registry.check(1) == a && registry.check(2) == b && registry.check(0) == nil && registry.check(3) == nil)
        // Its failures read as the host check's errors.
        #expect(b.error(entry: 7, triple: (0, 0, 0)) == .nonFinite(argument: "weights", position: [1, 3]))
        #expect(a.error(entry: 4, triple: (2, 0, 0))
            == positionError(2, 0, 0, entry: 4, video: Self.video, argument: "indices", allowMissing: true))
    }

    @Test("Driver errors map to unavailable (no driver, no GPU, cuInit fails), out of memory, or device failure")
    func driverErrorMapping() {
        let device = Device.cuda(0)
        #expect(DNLSError(.driver(call: "cuInit", code: 100, name: "CUDA_ERROR_NO_DEVICE", message: "no device"), device: device)
            .kind == .unavailable)
        #expect(DNLSError(.noDevice(ordinal: 2, count: 1), device: device).kind == .unavailable)
        #expect(DNLSError(.outOfMemory(bytes: 4096), device: device) == .outOfMemory(device: device, bytes: 4096))
        #expect(DNLSError(.driver(call: "cuLaunchKernel(x)", code: 700, name: "CUDA_ERROR_ILLEGAL_ADDRESS", message: "m"),
                          device: device).kind == .deviceFailure)
    }

    @Test(.enabled(if: ConformanceTests.cudaUnavailable == nil, "no usable GPU here"))
    func gpuChecksThrowTheCPUsErrors() {
        let problems = ConformanceSuite.checkDeviceValidation(.cuda(0))
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }
}
