// The harness's program: libFuzzer with the harness's function as its target.
import FuzzSupport

// The vocabularies are loaded before the first input: libFuzzer would count their loading
// (seconds under the sanitizers) against that input's one-second timeout.
FuzzSupport.note("fuzz-tokenize: \(vocabularies.count) vocabularies: " + vocabularies.map(\.name).joined(separator: ", "))
runFuzzer(fuzzTokenize)
