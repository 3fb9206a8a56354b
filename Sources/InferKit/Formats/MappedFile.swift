#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A read-only memory mapping of a whole file. Model weights are used in place from
/// the mapping (zero-copy), so pages are read lazily by the kernel as they are touched
/// and shared between every `Model` that maps the same file.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    public let base: UnsafeRawPointer
    public let size: Int
    /// False for memory that lives as long as the process (a file linked into the executable).
    private let ownsMapping: Bool

    /// The bytes of a file that are already in memory for the life of the process, such as
    /// a model linked into the executable; `name` stands for the path in messages.
    public init(staticBytes: UnsafeRawBufferPointer, name: String) throws {
        guard let base = staticBytes.baseAddress, staticBytes.count > 0 else {
            throw InferError.invalidFile(path: name, problem: "file is empty")
        }
        self.path = name
        self.base = base
        self.size = staticBytes.count
        self.ownsMapping = false
    }

    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw InferError.cannotOpen(path: path, reason: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw InferError.cannotOpen(path: path, reason: String(cString: strerror(errno)))
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw InferError.cannotOpen(path: path, reason: "not a regular file")
        }
        let size = Int(info.st_size)
        guard size > 0 else { throw InferError.invalidFile(path: path, problem: "file is empty") }
        guard let mapping = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0),
              mapping != MAP_FAILED
        else {
            throw InferError.cannotOpen(path: path, reason: "mmap failed: \(String(cString: strerror(errno)))")
        }
        self.base = UnsafeRawPointer(mapping)
        self.size = size
        self.ownsMapping = true
    }

    deinit {
        if ownsMapping { munmap(UnsafeMutableRawPointer(mutating: base), size) }
    }

    /// The bytes in `offset ..< offset + count`, or nil when they are not all in the file.
    public func bytes(at offset: Int, count: Int) -> UnsafeRawBufferPointer? {
        guard offset >= 0, count >= 0, offset <= size, count <= size - offset else { return nil }
        return UnsafeRawBufferPointer(start: base + offset, count: count)
    }

    /// Reads the whole file into memory ahead of use, except the byte ranges `skipping`
    /// (bytes no longer read), reporting the fraction done. Without it the first token of a
    /// large model waits for the disk with no sign of progress.
    public func prefetch(skipping: [Range<Int>] = [], progress: (Double) -> Void) {
        let chunk = 32 << 20
        let skipped = skipping.sorted { $0.lowerBound < $1.lowerBound }
        var next = 0  // the first skipped range that does not end before the current page
        var offset = 0
        var checksum: UInt8 = 0
        while offset < size {
            let count = min(chunk, size - offset)
            // Touching one byte per page faults the chunk in (madvise alone is only a hint).
            for page in stride(from: offset, to: offset + count, by: 4096) {
                while next < skipped.count && skipped[next].upperBound <= page { next += 1 }
                if next < skipped.count && skipped[next].contains(page) { continue }
                checksum &+= base.load(fromByteOffset: page, as: UInt8.self)
            }
            offset += count
            progress(Double(offset) / Double(size))
        }
        withExtendedLifetime(checksum) {}
    }

    /// Lets the kernel drop the pages of `count` bytes at `start` (inside the mapping) from this
    /// process's memory: the whole pages among them. Reading them again is still valid: they
    /// come back from the file. Nothing for memory that is not a mapping of ours.
    func release(bytesAt start: UnsafeRawPointer, count: Int) {
        guard ownsMapping, start >= base, start + count <= base + size else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let first = (Int(bitPattern: start) + page - 1) / page * page
        let end = (Int(bitPattern: start) + count) / page * page
        guard end > first else { return }
        madvise(UnsafeMutableRawPointer(bitPattern: first), end - first, MADV_DONTNEED)
    }

    /// The file name without its directory, for error messages.
    public var name: String { path.split(separator: "/").last.map(String.init) ?? path }
}
