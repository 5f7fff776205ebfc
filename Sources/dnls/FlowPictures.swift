#if canImport(Glibc)
import Glibc
#endif
import DNLS

/// Flows as pictures: `(…, T, 2, H, W)` displacements → `(…, T, 3, H, W)` RGB on the 0–255 scale,
/// the usual colour wheel of optical flow: the hue gives the direction (right red, down
/// yellow-green, left cyan, up blue-violet), the saturation the length relative to `longest`
/// (white: no motion).
func flowPicture(_ flow: Tensor<Float>, longest: Float) throws -> Tensor<Float> {
    let shape = flow.shape
    let (H, W) = (shape[shape.count - 2], shape[shape.count - 1]), plane = H * W
    let frames = flow.count / (2 * plane)
    let values = try flow.to(.cpu).scalars
    var rgb = [Float](repeating: 0, count: frames * 3 * plane)
    let scale = longest > 0 ? 1 / longest : 0
    for f in 0..<frames {
        for i in 0..<plane {
            let dx = values[(2 * f) * plane + i], dy = values[(2 * f + 1) * plane + i]
            let saturation = min(1, (dx * dx + dy * dy).squareRoot() * scale)
            var hue = atan2f(dy, dx) / (2 * Float.pi)  // −½…½ turn, 0 pointing right
            if hue < 0 { hue += 1 }
            let (r, g, b) = hsvToRGB(hue: hue, saturation: saturation)
            rgb[(3 * f) * plane + i] = 255 * r
            rgb[(3 * f + 1) * plane + i] = 255 * g
            rgb[(3 * f + 2) * plane + i] = 255 * b
        }
    }
    var pictureShape = shape
    pictureShape[shape.count - 3] = 3
    return try Tensor(shape: pictureShape, scalars: rgb)
}

/// Full-value HSV to RGB, each in 0…1.
func hsvToRGB(hue: Float, saturation s: Float) -> (Float, Float, Float) {
    let h = (hue - hue.rounded(.down)) * 6
    let sector = min(Int(h), 5), f = h - Float(sector)
    let p = 1 - s, q = 1 - s * f, t = 1 - s * (1 - f)
    switch sector {
    case 0: return (1, t, p)
    case 1: return (q, 1, p)
    case 2: return (p, 1, t)
    case 3: return (p, q, 1)
    case 4: return (t, p, 1)
    default: return (1, p, q)
    }
}

/// The mean and the longest length of the displacements of `flow` `(…, 2, H, W)`, in pixels.
func displacementLengths(_ flow: Tensor<Float>) throws -> (mean: Float, longest: Float) {
    let shape = flow.shape, plane = shape[shape.count - 2] * shape[shape.count - 1]
    let values = try flow.to(.cpu).scalars
    var longest: Float = 0, total: Double = 0
    let frames = values.count / (2 * plane)
    for f in 0..<frames {
        for i in 0..<plane {
            let dx = values[2 * f * plane + i], dy = values[(2 * f + 1) * plane + i]
            let length = (dx * dx + dy * dy).squareRoot()
            longest = max(longest, length)
            total += Double(length)
        }
    }
    return (Float(total / Double(max(1, frames * plane))), longest)
}
