import CUDADriver
internal import CDNLSKernels

/// An input check that only a kernel can make, as a value: what it checks and how its failure
/// reads as an error. ``InputChecking/deferred`` calls record failures under the check's
/// identifier in ``CheckRegistry``, so that a later synchronisation can throw the same error the
/// call would have thrown eagerly.
enum DeviceCheck: Sendable, Hashable {
    /// Every `(t, h, w)` triple of `argument` lies in a video of `frames × height × width` (or is
    /// the marker `(−1, −1, −1)` when `allowMissing`).
    case triples(argument: String, frames: Int, height: Int, width: Int, allowMissing: Bool)
    /// Every value of `argument`, of this shape, is finite.
    case finite(argument: String, shape: [Int])

    /// The error for a failure at flat `entry` (a triple's index, or a value's), `triple` the
    /// failing triple's words.
    func error(entry: Int, triple: (Int32, Int32, Int32)) -> DNLSError {
        switch self {
        case let .triples(argument, frames, height, width, allowMissing):
            let video = VideoShape(batch: 1, frames: frames, channels: 1, height: height, width: width, batched: false)
            return positionError(triple.0, triple.1, triple.2, entry: entry, video: video, argument: argument,
                                 allowMissing: allowMissing)
        case let .finite(argument, shape):
            return .nonFinite(argument: argument, position: multiIndex(entry, shape: shape))
        }
    }
}

/// The checks deferred calls have recorded under, numbered from 1 in order of first use. A check
/// is identified by its content, so a training loop that repeats the same calls adds nothing
/// after its first step.
struct CheckRegistry: Sendable {
    private var identifiers: [DeviceCheck: Int32] = [:]
    private var checks: [DeviceCheck] = []

    /// The identifier of `check`, registered on first use.
    mutating func identifier(of check: DeviceCheck) -> Int32 {
        if let id = identifiers[check] { return id }
        checks.append(check)
        let id = Int32(checks.count)
        identifiers[check] = id
        return id
    }

    /// The check registered under `id`.
    func check(_ id: Int32) -> DeviceCheck? {
        id >= 1 && Int(id) <= checks.count ? checks[Int(id) - 1] : nil
    }
}

extension CUDABackend: DeviceValidation {
    /// The GPU's memory in bytes (remembered after the first driver query).
    func memoryCapacity() throws(DNLSError) -> Int { try runtime.deviceMemory() }

    /// Checks the triples of a GPU index tensor `(…, 3)` on the device: each lies in the video (or
    /// is the marker `(−1, −1, −1)` when `allowMissing`). The first bad one in row-major order
    /// fails, with the same error as the host check; in ``InputChecking/eager`` mode it is thrown
    /// here (the call waits for 24 bytes), in ``InputChecking/deferred`` mode it is recorded for
    /// the next synchronisation.
    func checkTriples(_ triples: Tensor<Int32>, video s: VideoShape, argument: String, allowMissing: Bool) throws(DNLSError) {
        let entries = triples.count / 3
        guard entries > 0 else { return }
        let check = DeviceCheck.triples(argument: argument, frames: s.frames, height: s.height, width: s.width,
                                        allowMissing: allowMissing)
        if device.inputChecking == .deferred, entries <= Self.smallCheckEntries {
            guard !device.isPlanning else { return }
            try recordSmallCheck(DNLSCheckEntry(
                kind: 0, id: checkIdentifier(check), data: pointer(triples), count: Int64(entries), T: Int32(s.frames),
                H: Int32(s.height), W: Int32(s.width), allowMissing: allowMissing ? 1 : 0))
            return
        }
        try DeferredCheckBatch.current?.flush()  // the gathered checks come first, as they were made first
        let report = try failureReport()
        try launch(.firstInvalidTriple, blocks: checkBlocks(entries), threads: Self.checkThreads, parameters: DNLSFirstInvalidTriple(
            triples: pointer(triples), entries: Int64(entries), T: Int32(s.frames), H: Int32(s.height), W: Int32(s.width),
            allowMissing: allowMissing ? 1 : 0, first: pointer(report)))
        if device.inputChecking == .deferred {
            // The triple goes straight from the tensor into the failure record: one launch less.
            guard !device.isPlanning else { return }
            let (id, record) = try deferredRecord(check)
            try launch(.recordFirstTriple, blocks: 1, threads: 1, parameters: DNLSRecordFirstTriple(
                triples: pointer(triples), report: pointer(report), id: id, record: pointer(record)))
            return
        }
        try launch(.copyFirstTriple, blocks: 1, threads: 1,
                   parameters: DNLSCopyFirstTriple(triples: pointer(triples), report: pointer(report)))
        try conclude(report, check)
    }

    /// Checks that every value of a GPU tensor is finite, on the device, reporting the first NaN
    /// or infinity as ``checkTriples(_:video:argument:allowMissing:)`` does.
    func checkFinite(_ values: Tensor<Float>, argument: String) throws(DNLSError) {
        let count = values.count
        guard count > 0 else { return }
        let check = DeviceCheck.finite(argument: argument, shape: values.shape)
        if device.inputChecking == .deferred, count <= Self.smallCheckEntries {
            guard !device.isPlanning else { return }
            try recordSmallCheck(DNLSCheckEntry(kind: 1, id: checkIdentifier(check), data: pointer(values), count: Int64(count),
                                                T: 0, H: 0, W: 0, allowMissing: 0))
            return
        }
        try DeferredCheckBatch.current?.flush()
        let report = try failureReport()
        try launch(.firstNonfinite, blocks: checkBlocks(count), threads: Self.checkThreads,
                   parameters: DNLSFirstNonfinite(values: pointer(values), count: Int64(count), first: pointer(report)))
        try conclude(report, check)
    }

    /// Entries up to which a deferred check is one launch of one block that records its failure
    /// itself (no report to preset, no second launch): each launch or fill costs the host about
    /// 4 µs, more than one block takes to scan this many entries.
    static let smallCheckEntries = 16384

    /// The check's identifier (registered on first use) and the failure record, for a deferred check.
    private func deferredRecord(_ check: DeviceCheck) throws(DNLSError) -> (Int32, Tensor<Int32>) {
        (checkIdentifier(check), try runtime.failureRecord(on: stream))
    }

    private func checkIdentifier(_ check: DeviceCheck) -> Int32 {
        runtime.checkRegistry.withLock { $0.identifier(of: check) }
    }

    /// A small deferred check: into the operation's batch (``DeferredCheckBatch``) when there is
    /// one with room, else launched alone.
    private func recordSmallCheck(_ check: DNLSCheckEntry) throws(DNLSError) {
        if let batch = DeferredCheckBatch.current, batch.add(check, for: self) { return }
        try recordChecks([check])
    }

    /// One record_checks launch of up to `DNLS_BATCHED_CHECKS` small checks, in order.
    func recordChecks(_ checks: [DNLSCheckEntry]) throws(DNLSError) {
        precondition(!checks.isEmpty && checks.count <= Int(DNLS_BATCHED_CHECKS))
        let record = try runtime.failureRecord(on: stream)
        func at(_ i: Int) -> DNLSCheckEntry { i < checks.count ? checks[i] : DNLSCheckEntry() }
        try launch(.recordChecks, blocks: 1, threads: Self.checkThreads, parameters: DNLSRecordChecks(
            count: Int32(checks.count), checks: (at(0), at(1), at(2), at(3)), record: pointer(record)))
    }

    /// A check's report: the first failing entry as one 64-bit word (two `Int32`, preset to all
    /// ones, "none", by a stream-ordered fill), then room for the failing triple.
    private func failureReport() throws(DNLSError) -> Tensor<Int32> {
        let report: Tensor<Int32> = try scratch([6])
        guard !device.isPlanning else { return report }
        try cuda(device) { () throws(CUDAError) in
            try report.deviceStorage!.buffer.fill(pattern: 0xFFFF_FFFF, words: 2, on: stream)
        }
        return report
    }

    /// Reads the report now (eager) or has the device record it in the failure record (deferred).
    private func conclude(_ report: Tensor<Int32>, _ check: DeviceCheck) throws(DNLSError) {
        guard !device.isPlanning else { return }
        switch device.inputChecking {
        case .eager:
            let words = try report.hostElements()
            if let entry = Self.firstFailure(words) { throw check.error(entry: entry, triple: (words[2], words[3], words[4])) }
        case .deferred:
            let (id, record) = try deferredRecord(check)
            try launch(.recordFailure, blocks: 1, threads: 1,
                       parameters: DNLSRecordFailure(report: pointer(report), id: id, record: pointer(record)))
        }
    }

    static let checkThreads = 256

    /// Enough blocks to fill the GPU a few times over; each thread then strides through the rest.
    func checkBlocks(_ items: Int) -> Int {
        max(1, min((items + Self.checkThreads - 1) / Self.checkThreads, 8 * runtime.context.multiprocessors))
    }

    /// Decodes a report word (the first two `Int32` of `words`, little-endian halves of an unsigned
    /// 64-bit entry): `nil` while it still holds the preset all-ones "none".
    static func firstFailure(_ words: [Int32]) -> Int? {
        let word = UInt64(UInt32(bitPattern: words[1])) << 32 | UInt64(UInt32(bitPattern: words[0]))
        return word == .max ? nil : Int(word)
    }
}

extension CUDARuntime {
    /// The failure record, `[check id, entry (two words), t, h, w, 0, 0]` with id 0 for "none",
    /// made (zeroed) on first use and ready on `stream`.
    func failureRecord(on stream: CUDAStream?) throws(DNLSError) -> Tensor<Int32> {
        let result: Result<ResidentTable, DNLSError> = failureRecord.withLock { record in
            if let record { return .success(record) }
            do throws(DNLSError) {
                let made = try ResidentTable(uploading: Array(repeating: 0, count: 8), to: self)
                record = made
                return .success(made)
            } catch {
                return .failure(error)
            }
        }
        return try result.get().ready(on: stream)
    }

    /// The error of the failure recorded since the last call, if any, read after the work queued on
    /// `stream` so far (the caller has synchronised), and the record cleared.
    func takeDeferredFailure(on stream: CUDAStream?) throws(DNLSError) -> DNLSError? {
        guard let resident = failureRecord.withLock({ $0 }) else { return nil }
        let record = try resident.ready(on: stream)
        let words = try record.hostElements(on: stream)
        guard words[0] != 0 else { return nil }
        try cuda(record.device) { () throws(CUDAError) in try record.deviceStorage!.buffer.fill(pattern: 0, on: stream) }
        let entry = Int(UInt64(UInt32(bitPattern: words[2])) << 32 | UInt64(UInt32(bitPattern: words[1])))
        guard let check = checkRegistry.withLock({ $0.check(words[0]) }) else {
            return .deviceFailure(device: record.device, reason: "the failure record names unknown check \(words[0])")
        }
        return check.error(entry: entry, triple: (words[3], words[4], words[5]))
    }
}
