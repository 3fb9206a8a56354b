#!/usr/bin/env bash
# The test suite under a sanitizer, in a build of its own (make sanitize):
#   address  AddressSanitizer on Swift and C, and UndefinedBehaviorSanitizer on
#            the C kernels (swiftc has no -sanitize=undefined on Linux; Swift's own overflow and
#            bounds checks trap in any build). Build: .build-asan.
#   thread   ThreadSanitizer on Swift and C: the thread pool, sessions, the server's slots and
#            connections. Build: .build-tsan.
# Then the server checks (Tests/Server/run_checks.sh) against the sanitized `infer`, whose
# reports end the server with an error. Every build and run is under `nice -n 19`.
set -euo pipefail
cd "$(dirname "$0")/../.."
kind=${1:?usage: Tests/Sanitizers/run.sh address|thread}
here=$PWD/Tests/Sanitizers

case "$kind" in
address)
    scratch=.build-asan
    flags=(--sanitize=address -Xcc -fsanitize=undefined -Xcc -fno-sanitize-recover=undefined)
    # LeakSanitizer is off here: at exit it reports XCTest's own objects, and every Swift enum a
    # process keeps to its end (a model's metadata), whose tagged pointers it does not follow.
    # Leaks are checked where that works: after each fuzz input (make fuzz), ModelReleaseTests,
    # and the memory of the server checks and the soak.
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1:allocator_may_return_null=0}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
    ;;
thread)
    scratch=.build-tsan
    flags=(--sanitize=thread)
    export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:suppressions=$here/tsan.supp}
    ;;
*)
    echo "usage: Tests/Sanitizers/run.sh address|thread" >&2
    exit 64
    ;;
esac

# The sanitizer's report, not Swift's backtracer reading the dying process.
export SWIFT_BACKTRACE=enable=no
# The server checks skip what a sanitized process cannot show (its memory staying flat).
export INFER_SANITIZER=$kind
echo "== swift build --build-tests --scratch-path $scratch ${flags[*]}"
nice -n 19 swift build --build-tests --scratch-path "$scratch" "${flags[@]}"
echo "== server checks with $scratch/debug/infer"
INFER_BINARY=$PWD/$scratch/debug/infer nice -n 19 Tests/Server/run_checks.sh
echo "== swift test under the $kind sanitizer"
nice -n 19 swift test --skip-build --scratch-path "$scratch" "${flags[@]}"
