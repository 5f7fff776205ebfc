#if canImport(Glibc)
import Glibc
#endif

/// The bytes of a tensor of `extents` with `elementBytes`-byte elements, or `nil` when the count
/// overflows.
func byteCount(_ extents: [Int], elementBytes: Int) -> Int? {
    var bytes = elementBytes
    for extent in extents {
        guard extent >= 0 else { return nil }
        let (product, overflow) = bytes.multipliedReportingOverflow(by: extent)
        if overflow { return nil }
        bytes = product
    }
    return bytes
}

/// Refuses, before any work, results that cannot fit where they would be made: more bytes than
/// the host's physical memory for the CPU, than the GPU's memory for a GPU, or a size that
/// overflows. Each entry is a result's extents and its element size.
/// - Throws: ``DNLSError/outOfMemory(device:bytes:)`` with the bytes asked (`Int.max` when they
///   overflow).
func requireRoom(for results: [(extents: [Int], elementBytes: Int)], on device: Device) throws(DNLSError) {
    guard !device.isPlanning else { return }
    var total = 0
    for result in results {
        guard let bytes = byteCount(result.extents, elementBytes: result.elementBytes) else {
            throw .outOfMemory(device: device, bytes: .max)
        }
        let (sum, overflow) = total.addingReportingOverflow(bytes)
        if overflow { throw .outOfMemory(device: device, bytes: .max) }
        total = sum
    }
    if total > (try memoryLimit(of: device)) { throw .outOfMemory(device: device, bytes: total) }
}

/// What one call may allocate at most on `device`: the host's physical memory, or the GPU's.
private func memoryLimit(of device: Device) throws(DNLSError) -> Int {
    guard case let .cuda(ordinal) = device else {
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), pageSize = sysconf(Int32(_SC_PAGESIZE))
        guard pages > 0, pageSize > 0 else { return .max }
        return pages.multipliedReportingOverflow(by: pageSize).overflow ? .max : pages * pageSize
    }
    return try gpuValidation(ordinal: ordinal).memoryCapacity()
}
