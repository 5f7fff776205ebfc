import DNLS

/// Runs one library call whose arguments were checked beforehand, inside a function that
/// `@differentiable(reverse)` code calls and that therefore cannot throw: a failure here (a GPU
/// fault, an exhausted memory limit, arguments that changed since they were checked) stops the
/// program with the library's message, as an out-of-range array index does.
///
/// Only the bodies of functions with registered derivatives call this, never code that the
/// compiler differentiates: Swift 6.3 miscompiles `try`, `do`/`catch` and throwing closures
/// inside differentiated code on tensor types.
func stopping<T>(_ what: String, _ body: () throws(DNLSError) -> T) -> T {
    do {
        return try body()
    } catch {
        fatalError("DNLSDifferentiation: \(what) failed: \(error)")
    }
}
