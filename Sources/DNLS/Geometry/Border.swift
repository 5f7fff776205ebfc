/// What a patch reads where it sticks out of the frame.
public enum Border: Sendable, Hashable, CaseIterable {
    /// Mirror about the first/last sample without repeating the edge (`-1 → 1`, `L → L−2`),
    /// applied once; a coordinate still outside after one reflection reads zero.
    case reflect
    /// Read zero outside the frame.
    case zero

    /// The in-frame coordinate that a sample at `x` reads on an axis of `length` samples, or −1
    /// when it reads zero. This is the one definition of border handling used by every backend.
    @inlinable @inline(__always)
    public func resolve(_ x: Int, length: Int) -> Int {
        var y = x
        if self == .reflect {
            if y < 0 { y = -y } else if y >= length { y = 2 * (length - 1) - y }
        }
        return (y >= 0 && y < length) ? y : -1
    }
}
