// The harness's program: libFuzzer with the harness's function as its target.
import FuzzSupport

// The model is loaded before the first input: libFuzzer would count its loading against that
// input's one-second timeout.
FuzzSupport.note("fuzz-request: \(model.path), chat templates: \(templateNames.map { $0 ?? "the model's" })")
runFuzzer(fuzzRequest)
