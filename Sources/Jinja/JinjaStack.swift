#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension Jinja {
    /// Parsing and rendering recurse once per nesting level of the template (and per macro
    /// call), so how deep a template may go depends on the stack. Rather than trust the
    /// caller's thread (secondary threads can have 512 KiB), both run on a thread of their
    /// own whose stack holds the deepest nesting the limits allow, several times over. The
    /// caller waits for the thread to end (joins it), so that nothing of the work outlives
    /// the call: no thread, and no reference to the result but the caller's.
    enum Stack {
        static let size = 64 << 20

        static func run<T>(_ body: () throws -> T) throws -> T {
            try withoutActuallyEscaping(body) { body in
                var outcome: Result<T, Error>?
                try withoutActuallyEscaping({ outcome = Result { try body() } }) { work in
                    try runOnLargeStack(Work(work))
                }
                return try outcome!.get()
            }
        }

        /// The closure a thread runs, handed to it through a pointer.
        private final class Work {
            let run: () -> Void
            init(_ run: @escaping () -> Void) { self.run = run }
        }

        private static func runOnLargeStack(_ work: Work) throws {
            var attributes = pthread_attr_t()
            pthread_attr_init(&attributes)
            defer { pthread_attr_destroy(&attributes) }
            pthread_attr_setstacksize(&attributes, size)
            let context = Unmanaged.passRetained(work).toOpaque()
            #if canImport(Darwin)
            var thread: pthread_t?
            #else
            var thread = pthread_t()
            #endif
            let status = pthread_create(&thread, &attributes, { context in
                let work = Unmanaged<Work>.fromOpaque(context!).takeRetainedValue()
                work.run()
                return nil
            }, context)
            guard status == 0 else {
                Unmanaged<Work>.fromOpaque(context).release()
                throw ChatTemplateError(.limitExceeded, "cannot start a thread for the template: \(String(cString: strerror(status)))")
            }
            #if canImport(Darwin)
            pthread_join(thread!, nil)
            #else
            pthread_join(thread, nil)
            #endif
        }
    }
}
