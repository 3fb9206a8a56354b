#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import InferKit

/// Writing to the terminal: streamed text goes to stdout unbuffered, diagnostics to stderr.
enum Terminal {
    static func write(_ text: String) {
        writeAll(STDOUT_FILENO, text)
    }

    static func note(_ text: String) {
        writeAll(STDERR_FILENO, text + "\n")
    }

    private static func writeAll(_ fd: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return }  // a closed pipe: nothing more can be shown
            offset += n
        }
    }

    /// A loading callback that shows the percentage of `name` read on stderr, so a large model
    /// does not load in silence; the line ends at 100%.
    static func loadingProgress(of name: String) -> (Double) -> Void {
        var shown = -1
        return { fraction in
            let percent = Int(fraction * 100)
            guard percent != shown else { return }
            shown = percent
            writeAll(STDERR_FILENO, "\rloading \(name): \(percent)%" + (percent == 100 ? "\n" : ""))
        }
    }

    /// Runs `body`; an InferKit error becomes one line on stderr and exit status 1.
    static func reportingErrors(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch {
            throw report(error)
        }
    }

    /// Runs `body`; an InferKit error becomes one line on stderr and exit status 1.
    static func reportingErrors(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch {
            throw report(error)
        }
    }

    /// The error to leave with: an InferKit error is reported here and ends with status 1;
    /// others pass through to ArgumentParser.
    private static func report(_ error: any Error) -> any Error {
        switch error {
        case let error as InferError: note("error: \(error)")
        case let error as ChatTemplateError: note("error: \(error)")
        case let error as GrammarError: note("error: the grammar: \(error)")
        default: return error
        }
        return ExitCode.failure
    }
}
