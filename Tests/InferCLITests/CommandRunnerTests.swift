import Foundation
import Testing

/// The runner the end-to-end tests rely on: it must not deadlock or hang.
struct CommandRunnerTests {
    static let shell = URL(fileURLWithPath: "/bin/sh")

    @Test func capturesStatusAndBothStreams() throws {
        let result = try CommandRunner.run(Self.shell, ["-c", "printf out; printf err >&2; exit 3"])
        #expect(result.status == 3)
        #expect(result.stdout == "out")
        #expect(result.stderr == "err")
    }

    @Test func feedsStandardInput() throws {
        let input = Data((0..<200_000).map { UInt8(truncatingIfNeeded: $0) })
        let result = try CommandRunner.run(Self.shell, ["-c", "cat"], stdin: input)
        #expect(result.stdoutBytes == input)
    }

    @Test func largeOutputOnBothStreamsDoesNotDeadlock() throws {
        let result = try CommandRunner.run(Self.shell, ["-c", "head -c 3000000 /dev/zero; head -c 3000000 /dev/zero >&2; head -c 1000000 /dev/zero"])
        #expect(result.status == 0)
        #expect(result.stdoutBytes.count == 4_000_000)
        #expect(result.stderrBytes.count == 3_000_000)
    }

    @Test func inputThatIsNeverReadDoesNotBlock() throws {
        let result = try CommandRunner.run(Self.shell, ["-c", "exit 0"], stdin: Data(count: 8_000_000))
        #expect(result.status == 0)
    }

    @Test func aHungCommandIsKilledAtTheTimeout() throws {
        let start = Date()
        let error = #expect(throws: CommandTimedOut.self) {
            try CommandRunner.run(Self.shell, ["-c", "printf started; sleep 30"], timeout: 1)
        }
        #expect(Date().timeIntervalSince(start) < 15)
        #expect(error?.partial.stdout == "started")
    }

    @Test func aSignalIsReportedAsAShellWould() throws {
        let result = try CommandRunner.run(Self.shell, ["-c", "kill -9 $$"])
        #expect(result.status == 128 + 9)
    }
}
