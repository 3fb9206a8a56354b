import Dispatch

/// Runs body(0) ..< body(count) on up to `count` threads (the caller's included) and
/// returns when all are done. For the few large, equal parts of a batched product: each
/// part is milliseconds of work, so GCD's dispatch cost does not matter.
func parallelFor(_ count: Int, _ body: (Int) -> Void) {
    if count <= 1 {
        if count == 1 { body(0) }
        return
    }
    withoutActuallyEscaping(body) { body in
        let task = UncheckedSendable(body)
        DispatchQueue.concurrentPerform(iterations: count) { task.value($0) }
    }
}

/// Hands a value to other threads where the caller guarantees the accesses do not race
/// (each part of a parallel loop writes its own rows).
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
