import CCUDA
@testable import CUDADriver
import Testing

/// Stream-ordered allocation from DNLS's own memory pool, its fallback to `cuMemAlloc`, and the
/// memory-in-use figures, against the fakes of `FakeDriver.swift`. An extension of the serialised
/// `FakeDriverTests`, so these never run beside another test that uses the fakes.
extension FakeDriverTests {
    @Test func withPoolsBuffersComeFromAPoolOfTheirOwnOnTheirStream() throws {
        let context = try CUDAContext(ordinal: 0, driver: Fake.pooledDriver)
        #expect(context.usesMemoryPool)
        // A pinned pool on device 0, created for DNLS: the device's default pool is never asked for.
        #expect(Fake.count(.poolCreate) == 1)
        #expect(Fake.poolProperties.map { [$0.allocType, $0.locationType, $0.id] } == [1, 1, 0])
        #expect(Fake.poolReleaseThreshold == UInt64.max)  // freed memory stays in DNLS's pool
        do {
            let buffer = try DeviceBuffer(context: context, byteCount: 1000)
            let pooled = buffer.isPooled
            #expect(pooled)
            #expect(Fake.count(.memAllocAsync) == 1 && Fake.count(.memAlloc) == 0)
            #expect(Fake.lastAllocationBytes == 1000)
            #expect(Fake.poolUsed == 1000)
        }
        #expect(Fake.count(.memFreeAsync) == 1 && Fake.count(.memFree) == 0)
        #expect(Fake.poolUsed == 0)
        // Both calls go to stream 0 (nil), the legacy default stream, when no stream is named.
        #expect(Fake.asyncStreams.count == 2 && Fake.asyncStreams.allSatisfy { $0 == nil })
        // Named, the allocation and the free both go to that stream.
        let stream = try CUDAStream(context: context)
        Fake.asyncStreams = []
        do { _ = try DeviceBuffer(context: context, byteCount: 64, stream: stream) }
        #expect(Fake.asyncStreams.count == 2 && Fake.asyncStreams.allSatisfy { $0 == Fake.stream })
    }

    @Test func withoutPoolSupportBuffersUseCuMemAlloc() throws {
        // The device says no.
        Fake.poolsSupported = 0
        try expectFallback(driver: Fake.pooledDriver)
        // The driver does not know the attribute (too old).
        Fake.poolsSupported = nil
        try expectFallback(driver: Fake.pooledDriver)
        // The driver lacks the entry points, all or one of them.
        Fake.poolsSupported = 1
        try expectFallback(driver: Fake.driver)
        var noFree = Fake.pooledDriver
        noFree.cuMemFreeAsync = nil
        #expect(!noFree.hasMemoryPools)
        try expectFallback(driver: noFree)
        var noGet = Fake.pooledDriver
        noGet.cuMemPoolGetAttribute = nil
        try expectFallback(driver: noGet)
        #expect(Fake.count(.memAllocAsync) == 0 && Fake.count(.memFreeAsync) == 0)
    }

    private func expectFallback(driver: DriverFunctions) throws {
        let before = (Fake.count(.memAlloc), Fake.count(.memFree))
        let context = try CUDAContext(ordinal: 0, driver: driver)
        #expect(!context.usesMemoryPool)
        do {
            let buffer = try DeviceBuffer(context: context, byteCount: 64)
            let pooled = buffer.isPooled
            #expect(!pooled)
        }
        #expect(Fake.count(.memAlloc) == before.0 + 1 && Fake.count(.memFree) == before.1 + 1)
    }

    @Test func poolSetUpFailuresAreTypedAndReleaseTheContext() {
        Fake.poolCreateResult = 2
        #expect(throws: CUDAError.driver(call: "cuMemPoolCreate", code: 2, name: "CUDA_ERROR_OUT_OF_MEMORY",
                                         message: "out of memory")) {
            try CUDAContext(ordinal: 0, driver: Fake.pooledDriver)
        }
        #expect(Fake.count(.primaryCtxRetain) == 1 && Fake.count(.primaryCtxRelease) == 1)
        Fake.reset()
        Fake.poolSetAttributeResult = 500
        #expect(throws: CUDAError.driver(call: "cuMemPoolSetAttribute(CU_MEMPOOL_ATTR_RELEASE_THRESHOLD)", code: 500,
                                         name: "CUDA_ERROR_NOT_FOUND", message: "named symbol not found")) {
            try CUDAContext(ordinal: 0, driver: Fake.pooledDriver)
        }
        // The pool made before the failure is destroyed with it.
        #expect(Fake.count(.primaryCtxRetain) == 1 && Fake.count(.primaryCtxRelease) == 1)
        #expect(Fake.count(.poolCreate) == 1 && Fake.count(.poolDestroy) == 1)
    }

    @Test func aFailedPooledAllocationIsTypedAndCountsNothing() throws {
        let context = try CUDAContext(ordinal: 0, driver: Fake.pooledDriver)
        // Out of memory is its own case, with the bytes asked for; other failures keep the driver's words.
        Fake.memAllocAsyncResult = 2
        #expect(throws: CUDAError.outOfMemory(bytes: 4096)) {
            _ = try DeviceBuffer(context: context, byteCount: 4096)
        }
        Fake.memAllocAsyncResult = 500
        #expect(throws: CUDAError.driver(call: "cuMemAllocFromPoolAsync(4096 bytes)", code: 500, name: "CUDA_ERROR_NOT_FOUND",
                                         message: "named symbol not found")) {
            _ = try DeviceBuffer(context: context, byteCount: 4096)
        }
        #expect(Fake.count(.memFreeAsync) == 0 && Fake.count(.memAlloc) == 0)
        #expect(context.allocations.current == 0 && context.allocations.peak == 0)
        #expect(try inUse(context) == [0, 0])
    }

    @Test func memoryInUseReadsThePoolAndResetsItsPeak() throws {
        let context = try CUDAContext(ordinal: 0, driver: Fake.pooledDriver)
        try expectPeakBookkeeping(context)
        #expect(Fake.count(.poolGetAttribute) > 0)
        Fake.poolGetAttributeResult = 2
        #expect(throws: CUDAError.driver(call: "cuMemPoolGetAttribute(CU_MEMPOOL_ATTR_USED_MEM_CURRENT)", code: 2,
                                         name: "CUDA_ERROR_OUT_OF_MEMORY", message: "out of memory")) {
            _ = try context.memoryInUse()
        }
        Fake.poolSetAttributeResult = 2
        #expect(throws: CUDAError.driver(call: "cuMemPoolSetAttribute(CU_MEMPOOL_ATTR_USED_MEM_HIGH)", code: 2,
                                         name: "CUDA_ERROR_OUT_OF_MEMORY", message: "out of memory")) {
            try context.resetPeakMemoryInUse()
        }
    }

    @Test func withoutAPoolMemoryInUseCountsTheBuffers() throws {
        let context = try CUDAContext(ordinal: 0, driver: Fake.driver)
        try expectPeakBookkeeping(context)
        #expect(Fake.count(.poolGetAttribute) == 0)
    }

    private func inUse(_ context: CUDAContext) throws -> [Int] {
        let usage = try context.memoryInUse()
        return [usage.current, usage.peak]
    }

    /// 1000 + 3000 bytes, free the 3000, reset, 500 more: the peak follows.
    private func expectPeakBookkeeping(_ context: CUDAContext) throws {
        #expect(try inUse(context) == [0, 0])
        let a = try DeviceBuffer(context: context, byteCount: 1000)
        do {
            let b = try DeviceBuffer(context: context, byteCount: 3000)
            #expect(try inUse(context) == [4000, 4000])
            #expect(b.byteCount == 3000)
        }
        #expect(try inUse(context) == [1000, 4000])
        try context.resetPeakMemoryInUse()
        #expect(try inUse(context) == [1000, 1000])
        let c = try DeviceBuffer(context: context, byteCount: 500)
        #expect(try inUse(context) == [1500, 1500])
        #expect(a.byteCount + c.byteCount == 1500)
        // The counter runs beside the pool either way.
        #expect(context.allocations.current == 1500 && context.allocations.peak == 1500)
    }

    @Test func theAllocationCounterIsExactUnderConcurrency() async {
        let counter = AllocationCounter()
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for _ in 0..<1000 {
                        counter.allocated(task + 1)
                        counter.freed(task + 1)
                    }
                }
            }
        }
        #expect(counter.current == 0)
        #expect(counter.peak >= 8 && counter.peak <= 36)  // at most every task's block at once
        counter.allocated(5)
        counter.resetPeak()
        #expect(counter.peak == 5)
    }
}
