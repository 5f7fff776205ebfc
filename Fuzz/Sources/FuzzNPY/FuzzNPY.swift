@_spi(Fuzzing) import DNLS

/// libFuzzer's entry point: any bytes must be read as an array or refused with a typed error;
/// a crash, trap, hang or leak is a bug. What is read must be consistent with its shape.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    do {
        let array = try NPY.read(bytes: bytes)
        // A file is at least as long as its data, so the count cannot exceed the input.
        var count = 1
        for extent in array.shape { count *= extent }
        precondition(count <= size, "read \(count) elements from \(size) bytes")
        switch array {
        case let .float(t): precondition(t.scalars.count == count)
        case let .double(t): precondition(t.scalars.count == count)
        case let .int32(t): precondition(t.scalars.count == count)
        case let .int64(_, scalars): precondition(scalars.count == count)
        }
    } catch {
        guard case .fileFormat = error else { preconditionFailure("unexpected error kind: \(error)") }
    }
    return 0
}
