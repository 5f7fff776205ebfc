import FuzzImageIO
import DNLS

/// libFuzzer's entry point: any bytes must decode to a (C, H, W) picture or be refused with a
/// typed error; a crash, trap, hang, leak or libpng/libjpeg abort is a bug.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    do {
        let picture = try ImageIO.decode(bytes)
        let shape = picture.shape
        precondition(shape.count == 3 && (shape[0] == 1 || shape[0] == 3) && shape[1] > 0 && shape[2] > 0,
                     "shape \(shape)")
        precondition(shape[0] * shape[1] * shape[2] <= ImageIO.maxSamples)
        precondition(picture.scalars.allSatisfy { $0 >= 0 && $0 <= 255 && $0 == $0.rounded() })
    } catch {
        guard case .fileFormat = error else { preconditionFailure("unexpected error kind: \(error)") }
    }
    return 0
}
