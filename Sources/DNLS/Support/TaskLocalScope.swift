extension TaskLocal {
    /// Runs `body` with the task-local bound to `value`, passing on `body`'s typed error (the
    /// standard `withValue` only rethrows untyped errors).
    func binding<R>(_ value: Value, _ body: () throws(DNLSError) -> R) throws(DNLSError) -> R {
        let result: Result<R, DNLSError> = withValue(value) {
            do throws(DNLSError) { return .success(try body()) } catch { return .failure(error) }
        }
        return try result.get()
    }
}
