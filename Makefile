# The two commands of the README: `make chat` (set up, build, chat with the default model)
# and `make test` (set up, run the tests). Both install the system library they need.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: deps build test chat

deps:
	@dpkg -s libopenblas-dev >/dev/null 2>&1 || { \
		echo "Installing libopenblas-dev (OpenBLAS, for batched prompt processing)"; \
		$(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q libopenblas-dev; }

build: deps
	swift build -c release

test: deps
	swift test

chat: build
	.build/release/infer chat
