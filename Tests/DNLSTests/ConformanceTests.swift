import DNLS
import DNLSConformance
import Testing

/// The conformance suite that `dnls selftest` runs, from `swift test`: the fast CPU backend on
/// every machine, the CUDA backend where a GPU and NVRTC are found (skipped with the reason
/// otherwise).
@Suite struct ConformanceTests {
    @Test func fastCPUBackendConforms() {
        let report = ConformanceSuite(device: .cpu, implementation: .fast, scale: .quick, seed: 7).run()
        #expect(report.failed == 0, "\(report.failures.joined(separator: "\n"))")
        #expect(report.passed == ConformanceSuite(device: .cpu, scale: .quick).checkCount)
    }

    static let cudaUnavailable: String? = {
        do { try Device.cuda(0).checkAvailable(); return nil } catch { return "\(error)" }
    }()

    @Test(.enabled(if: cudaUnavailable == nil, "no usable GPU here: \(cudaUnavailable ?? "")"))
    func cudaBackendConforms() {
        let suite = ConformanceSuite(device: .cuda(0), scale: .quick, seed: 7)
        let report = suite.run()
        #expect(report.failed == 0, "\(report.failures.joined(separator: "\n"))")
        #expect(report.passed == suite.checkCount)
    }

    @Test func cudaTensorsFailClearlyWithoutAGPU() throws {
        guard ConformanceTests.cudaUnavailable != nil else { return }
        let t = Tensor<Float>(zeros: [2, 3])
        #expect(throws: DNLSError.self) { try t.to(.cuda(0)) }
        do {
            _ = try t.to(.cuda(0))
        } catch let error {
            guard case let .unavailable(what, reason) = error else {
                Issue.record("expected .unavailable, got \(error)")
                return
            }
            #expect(what.contains("cuda(0)"))
            #expect(reason.contains("libcuda.so.1"), "the reason should say where the driver was looked for: \(reason)")
        }
    }
}
