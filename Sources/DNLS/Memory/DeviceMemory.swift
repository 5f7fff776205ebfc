/// Device memory in use by DNLS's allocations on a GPU, in bytes.
public struct DeviceMemoryUsage: Sendable, Hashable {
    /// Where the figures come from.
    public enum Source: String, Sendable, Hashable {
        /// DNLS's own memory pool on the device (`CU_MEMPOOL_ATTR_USED_MEM_CURRENT` / `USED_MEM_HIGH`),
        /// which every tensor's memory comes from where the device supports pools.
        case memoryPool = "memory pool"
        /// DNLS's own count of its live device buffers (devices or drivers without memory pools).
        case allocationCounter = "allocation counter"
    }

    /// Bytes in use now.
    public var current: Int
    /// The most bytes in use at once since the last ``Device/resetPeakMemoryUsage()``.
    public var peak: Int
    /// Where ``current`` and ``peak`` come from.
    public var source: Source
    /// Total device memory, in bytes.
    public var total: Int

    /// Creates a usage record (for tests and tools that build their own).
    public init(current: Int, peak: Int, source: Source, total: Int) {
        self.current = current; self.peak = peak; self.source = source; self.total = total
    }
}
