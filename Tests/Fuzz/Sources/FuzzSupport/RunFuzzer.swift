import CLibFuzzer
import Foundation

/// Runs libFuzzer with `test` as the code under test, with the process's command line
/// (`-runs=N corpus/ ...`, or input files to replay), then exits with its status.
public func runFuzzer(_ test: @convention(c) (UnsafeRawPointer?, Int) -> CInt) -> Never {
    exit(infer_fuzz_run_driver(CommandLine.argc, CommandLine.unsafeArgv, test))
}

/// A line on stderr, beside libFuzzer's own.
public func note(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
