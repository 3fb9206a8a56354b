#if canImport(Glibc)
import Glibc
#endif

/// A copy of a fuzz input in memory of its own, page-aligned as a memory-mapped file is and
/// exactly as long as the input, so that the address sanitizer reports any read past its end.
/// Loaders that take bytes (`Model(staticBytes:name:)`) read it as they would a mapped file.
public final class AlignedInput {
    public let bytes: UnsafeRawBufferPointer

    public init(_ input: UnsafeRawBufferPointer) {
        var memory: UnsafeMutableRawPointer?
        // At least one byte, so that an empty input has an address too.
        guard posix_memalign(&memory, 4096, max(input.count, 1)) == 0, let memory else {
            fatalError("posix_memalign failed for \(input.count) bytes")
        }
        if let base = input.baseAddress, input.count > 0 { memory.copyMemory(from: base, byteCount: input.count) }
        bytes = UnsafeRawBufferPointer(start: memory, count: input.count)
    }

    deinit {
        free(UnsafeMutableRawPointer(mutating: bytes.baseAddress))
    }
}
