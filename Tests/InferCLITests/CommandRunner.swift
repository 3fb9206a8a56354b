import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a finished command printed and how it ended.
struct CommandResult: Sendable {
    /// The exit status, or 128 + the signal number if a signal ended it (as a shell reports).
    let status: Int32
    /// The bytes exactly as printed.
    let stdoutBytes: Data
    let stderrBytes: Data

    var stdout: String { String(decoding: stdoutBytes, as: UTF8.self) }
    var stderr: String { String(decoding: stderrBytes, as: UTF8.self) }
}

/// A command that did not finish in time; it was killed, and this holds what it had printed.
struct CommandTimedOut: Error, CustomStringConvertible {
    let command: String
    let seconds: Double
    let partial: CommandResult

    var description: String {
        "\(command) did not finish within \(seconds) s and was killed; stderr so far: \(partial.stderr.suffix(2000))"
    }
}

/// Runs programs for end-to-end tests: arguments, optional standard input, and stdout and
/// stderr captured in full. Both pipes are drained while the program runs and stdin is fed
/// from its own thread, so a program that prints megabytes, or reads no input, cannot
/// deadlock against the test; a program that hangs is killed after `timeout`, with any
/// children it started (it runs in a process group of its own).
///
/// It uses `posix_spawn` and `waitpid` rather than Foundation's `Process`, whose Linux
/// implementation only notices an exit once every descendant has closed an inherited
/// descriptor, so a hung grandchild delays it.
enum CommandRunner {
    static func run(_ executable: URL, _ arguments: [String], stdin: Data? = nil,
                    environment: [String: String]? = nil, timeout: Double = 120) throws -> CommandResult {
        try start(executable, arguments, stdin: stdin, environment: environment).wait(timeout: timeout)
    }

    /// Starts the program and returns while it runs (a server), to be signalled and waited for.
    static func start(_ executable: URL, _ arguments: [String], stdin: Data? = nil,
                      environment: [String: String]? = nil) throws -> RunningCommand {
        // A program that exits without reading its input must not kill the test process
        // with SIGPIPE when the feeder writes to the closed pipe.
        signal(SIGPIPE, SIG_IGN)

        spawnLock.lock()
        var locked = true
        defer { if locked { spawnLock.unlock() } }
        let stdoutPipe = try makePipe()
        let stderrPipe = try makePipe()
        let stdinPipe = try stdin.map { _ in try makePipe() }
        let devNull = stdinPipe == nil ? open("/dev/null", O_RDONLY | O_CLOEXEC) : -1
        defer { if devNull >= 0 { close(devNull) } }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // The pipes are close-on-exec, so only these copies reach the program (not the
        // programs other tests start at the same time).
        posix_spawn_file_actions_adddup2(&actions, stdinPipe?.read ?? devNull, 0)
        posix_spawn_file_actions_adddup2(&actions, stdoutPipe.write, 1)
        posix_spawn_file_actions_adddup2(&actions, stderrPipe.write, 2)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        posix_spawnattr_setpgroup(&attributes, 0)
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        // The program gets the default SIGPIPE back (ignoring it is inherited through exec).
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigdefault(&attributes, &defaults)

        let argv = ([executable.path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let variables = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        let envp = variables.map { strdup($0) } + [nil]
        defer { envp.forEach { free($0) } }

        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable.path, &actions, &attributes, argv, envp)
        spawnLock.unlock()
        locked = false
        close(stdoutPipe.write)
        close(stderrPipe.write)
        if let stdinPipe { close(stdinPipe.read) }
        guard spawned == 0 else {
            close(stdoutPipe.read)
            close(stderrPipe.read)
            if let stdinPipe { close(stdinPipe.write) }
            throw CommandFailedToStart(path: executable.path, reason: String(cString: strerror(spawned)))
        }

        if let stdin, let stdinPipe {
            Thread.detachNewThread {
                // A program that stops reading early closes the pipe: that is not an error here.
                stdin.withUnsafeBytes { buffer in
                    var offset = 0
                    while offset < buffer.count {
                        let n = write(stdinPipe.write, buffer.baseAddress! + offset, buffer.count - offset)
                        if n < 0 && errno == EINTR { continue }
                        guard n > 0 else { break }
                        offset += n
                    }
                }
                close(stdinPipe.write)
            }
        }

        return RunningCommand(executable: executable, arguments: arguments, pid: pid, waiter: ExitWaiter(pid),
                              stdoutReader: PipeReader(stdoutPipe.read), stderrReader: PipeReader(stderrPipe.read))
    }

    /// A close-on-exec pipe. Glibc's `pipe2` is not visible to Swift, so the flag is set
    /// after `pipe`; `spawnLock` keeps other runs from spawning in between.
    private static func makePipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else {
            throw CommandFailedToStart(path: "pipe", reason: String(cString: strerror(errno)))
        }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return (fds[0], fds[1])
    }

    /// Held from creating a run's pipes until its program has started, so that no program
    /// started concurrently inherits them (and holds them open).
    private static let spawnLock = NSLock()
}

/// A program started by `CommandRunner.start`: its output is collected while it runs.
final class RunningCommand: @unchecked Sendable {
    let executable: URL
    let arguments: [String]
    let pid: pid_t
    private let waiter: ExitWaiter
    private let stdoutReader: PipeReader
    private let stderrReader: PipeReader

    fileprivate init(executable: URL, arguments: [String], pid: pid_t, waiter: ExitWaiter,
                     stdoutReader: PipeReader, stderrReader: PipeReader) {
        self.executable = executable
        self.arguments = arguments
        self.pid = pid
        self.waiter = waiter
        self.stdoutReader = stdoutReader
        self.stderrReader = stderrReader
    }

    /// What the program has printed on stderr so far.
    var stderrSoFar: String { String(decoding: stderrReader.current, as: UTF8.self) }

    /// Sends `signal` to the program.
    func send(_ signal: Int32) {
        kill(pid, signal)
    }

    /// Waits for the program to exit; kills it (and any children) after `timeout` seconds.
    func wait(timeout: Double = 120) throws -> CommandResult {
        let pid = self.pid
        var timedOut = false
        if !waiter.wait(seconds: timeout) {
            timedOut = true
            kill(-pid, SIGTERM)
            if !waiter.wait(seconds: 3) { kill(-pid, SIGKILL) }
            _ = waiter.wait(seconds: .infinity)
        }
        // Output left in the pipes is read; children the program left behind are ended
        // (its group id is still reserved: the program is not reaped yet).
        let stdoutData = stdoutReader.finish()
        let stderrData = stderrReader.finish()
        kill(-pid, SIGKILL)
        let result = CommandResult(status: waiter.reap(), stdoutBytes: stdoutData, stderrBytes: stderrData)
        if timedOut {
            let command = ([executable.lastPathComponent] + arguments).joined(separator: " ")
            throw CommandTimedOut(command: command, seconds: timeout, partial: result)
        }
        return result
    }
}

struct CommandFailedToStart: Error, CustomStringConvertible {
    let path: String
    let reason: String
    var description: String { "cannot run \(path): \(reason)" }
}

/// Waits for a process on a thread of its own, so the wait can time out. The process is
/// left unreaped (a zombie) until `reap()`, so its id, and the id of its process group,
/// cannot be reused by an unrelated process while its leftover children are ended.
fileprivate final class ExitWaiter: @unchecked Sendable {
    private let pid: pid_t
    private let exited = DispatchSemaphore(value: 0)

    init(_ pid: pid_t) {
        self.pid = pid
        Thread.detachNewThread { [self] in
            var info = siginfo_t()
            while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR {}
            exited.signal()
        }
    }

    /// Whether the process ended within `seconds`.
    func wait(seconds: Double) -> Bool {
        guard exited.wait(timeout: seconds.isFinite ? .now() + seconds : .distantFuture) == .success else { return false }
        exited.signal()  // later waits return at once
        return true
    }

    /// Collects the ended process; its exit status, or 128 + the signal that ended it.
    func reap() -> Int32 {
        var raw: Int32 = 0
        while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
        let signal = raw & 0x7F
        return signal == 0 ? (raw >> 8) & 0xFF : 128 + signal
    }
}

/// Reads a pipe to its end on a thread of its own.
fileprivate final class PipeReader: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ fd: Int32) {
        Thread.detachNewThread { [self] in
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = read(fd, &buffer, buffer.count)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { break }
                lock.withLock { data.append(contentsOf: buffer[0..<n]) }
            }
            close(fd)
            done.signal()
        }
    }

    /// What has been read so far.
    var current: Data { lock.withLock { data } }

    /// What was read, once the pipe is closed; if a child the program left behind still
    /// holds it open, what was read within a few seconds.
    func finish() -> Data {
        _ = done.wait(timeout: .now() + 5)
        return lock.withLock { data }
    }
}
