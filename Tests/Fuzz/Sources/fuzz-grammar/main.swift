// The harness's program: libFuzzer with the harness's function as its target.
import FuzzSupport

runFuzzer(fuzzGrammar)
