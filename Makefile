# The two commands of the README: `make chat` (set up, build, chat with the default model)
# and `make test` (set up, run the tests: `swift test` and the server checks with Python's
# openai client and the load check). Both install the system library they need.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: deps build test server-checks chat fuzz fuzz-build fuzz-smoke sanitize sanitize-address sanitize-thread

deps:
	@dpkg -s libopenblas-dev >/dev/null 2>&1 || { \
		echo "Installing libopenblas-dev (OpenBLAS, for batched prompt processing)"; \
		$(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q libopenblas-dev; }

build: deps
	swift build -c release

# The server checks run between the build and `swift test`, so that the test runner's summary
# stays the last line.
test: deps
	swift build --build-tests
	@$(MAKE) --no-print-directory server-checks
	swift test

# Needs the debug build; skipped with a message without python3 (except in CI).
server-checks:
	Tests/Server/run_checks.sh

chat: build
	.build/release/infer chat

# Fuzzing (Tests/Fuzz/README.md): the libFuzzer harnesses, built with the sanitizers in
# .build-fuzz (a build of its own, not part of `make test`). `make fuzz` runs each for
# FUZZ_SECONDS and records the results in Tests/Fuzz/README.md; `make fuzz-smoke` replays the
# regression inputs and runs each harness for a few seconds.
FUZZ_SECONDS ?= 60

fuzz-build: deps
	python3 Tests/Fuzz/fuzz.py build

fuzz: fuzz-build
	python3 Tests/Fuzz/fuzz.py run --seconds $(FUZZ_SECONDS) --record
	python3 Tests/Fuzz/fuzz.py coverage
	python3 Tests/Fuzz/fuzz.py table

fuzz-smoke: fuzz-build
	python3 Tests/Fuzz/fuzz.py replay
	python3 Tests/Fuzz/fuzz.py run --seconds 5

# The test suite under the sanitizers, each in a build of its own: AddressSanitizer (Swift and
# C) with UndefinedBehaviorSanitizer on the C kernels (Swift has no UBSan on Linux; its own
# checks trap), then ThreadSanitizer (the thread pool, sessions, the server's slots).
# Tests/Sanitizers/run.sh says how, and what it leaves out.
sanitize: sanitize-address sanitize-thread

sanitize-address: deps
	Tests/Sanitizers/run.sh address

sanitize-thread: deps
	Tests/Sanitizers/run.sh thread
