import Foundation

/// Ends the run as a finding when a property of the code under test does not hold: libFuzzer
/// records the input that broke it, as it does for a crash.
public func fuzzCheck(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
                      file: StaticString = #fileID, line: UInt = #line) {
    guard !condition() else { return }
    FileHandle.standardError.write(Data("fuzz check failed at \(file):\(line): \(message())\n".utf8))
    abort()
}
