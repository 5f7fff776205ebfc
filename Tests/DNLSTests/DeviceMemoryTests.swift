import DNLS
import Testing

/// The device hooks `dnls bench` uses: memory in use and its peak, and the device timer.
@Suite struct DeviceMemoryTests {
    @Test func theCPUHasNoDeviceMemoryFigures() throws {
        #expect(try Device.cpu.memoryUsage() == nil)
        #expect(try Device.cpu.resetPeakMemoryUsage() == nil)
    }

    @Test func theCPUTimerIsTheWallClockAndPassesErrorsOn() throws {
        var ran = false
        let ms = try Device.cpu.elapsedMilliseconds { ran = true }
        #expect(ran && ms >= 0 && ms < 1000)
        let failure = DNLSError.invalidArgument(argument: "x", expected: "y", actual: "z")
        #expect(throws: failure) { try Device.cpu.elapsedMilliseconds { () throws(DNLSError) in throw failure } }
    }

    @Test func withoutAGPUTheHooksFailClearly() {
        guard ConformanceTests.cudaUnavailable != nil else { return }
        #expect(throws: DNLSError.self) { try Device.cuda(0).memoryUsage() }
        #expect(throws: DNLSError.self) { try Device.cuda(0).resetPeakMemoryUsage() }
        #expect(throws: DNLSError.self) { try Device.cuda(0).elapsedMilliseconds {} }
    }

    @Test(.enabled(if: ConformanceTests.cudaUnavailable == nil, "no usable GPU here"))
    func aGPUTensorRaisesThePeakByItsBytes() throws {
        let gpu = Device.cuda(0)
        let before = try #require(try gpu.resetPeakMemoryUsage())
        #expect(before.peak == before.current && before.total > 0)
        do {
            let t = try Tensor<Float>(zeros: [1 << 20]).to(gpu)
            let during = try #require(try gpu.memoryUsage())
            #expect(during.current >= before.current + 4 << 20)
            _ = t
        }
        let after = try #require(try gpu.memoryUsage())
        #expect(after.peak >= before.current + 4 << 20)
        #expect(after.current < after.peak)  // the tensor's memory is no longer in use
        let ms = try gpu.elapsedMilliseconds { () throws(DNLSError) in _ = try Tensor<Float>(zeros: [1024]).to(gpu) }
        #expect(ms >= 0)
    }
}
