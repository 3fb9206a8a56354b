# The two commands of the README: `make chat` (set up, build, chat with the default model)
# and `make test` (set up, run the tests: `swift test` and the server checks with Python's
# openai client and the load check). Both install the system library they need.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: deps build test server-checks chat

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
