import Foundation

extension Jinja {
    /// Parsing and rendering recurse once per nesting level of the template (and per macro
    /// call), so how deep a template may go depends on the stack. Rather than trust the
    /// caller's thread (secondary threads can have 512 KiB), both run on a thread of their
    /// own whose stack holds the deepest nesting the limits allow, several times over.
    enum Stack {
        static let size = 64 << 20

        static func run<T>(_ body: () throws -> T) throws -> T {
            try withoutActuallyEscaping(body) { body in
                let task = Task(body)
                let thread = Thread { task.run() }
                thread.stackSize = size
                thread.start()
                return try task.result()
            }
        }

        /// The work and its result, handed between the caller and the worker thread; the
        /// caller waits for the worker, so the two never touch it at the same time.
        private final class Task<T>: @unchecked Sendable {
            private var body: (() throws -> T)?
            private var outcome: Result<T, Error>?
            private let done = DispatchSemaphore(value: 0)

            init(_ body: @escaping () throws -> T) { self.body = body }

            func run() {
                outcome = Result { try body!() }
                // Released before the caller resumes: `withoutActuallyEscaping` checks that
                // nothing holds the closure any more.
                body = nil
                done.signal()
            }

            func result() throws -> T {
                done.wait()
                return try outcome!.get()
            }
        }
    }
}
