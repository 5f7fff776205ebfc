/// Lets a value that is not `Sendable` (a closure, a raw pointer) cross into the `@Sendable`
/// closure of `DispatchQueue.concurrentPerform`.
///
/// Safe only under the contract of ``fastParallelFor(_:_:)``, which every user keeps: the tasks read
/// memory that no task writes and each writes elements that no other task writes, so nothing races
/// and the result does not depend on scheduling.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
