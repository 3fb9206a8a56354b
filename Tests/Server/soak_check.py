"""Soak of `infer serve`: the load check's rounds (load_check.py: 8 concurrent clients, whole and
streamed chat and text completions, one request in five malformed) back to back for a set time,
the server's resident memory sampled every minute. Every valid request must be answered validly,
every malformed one get a 4xx, and the memory must stay flat once warm.

  python3 Tests/Server/soak_check.py [--minutes 30] [--sample-seconds 60]

Needs only the standard library (and the built infer: INFER_BINARY, default .build/debug/infer).
Not part of `make test` (it takes half an hour); its results are in Benchmarks/README.md."""

import argparse
import sys
import threading
import time

import load_check
from inferserver import Checks, Server, wait_until


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--sample-seconds", type=float, default=60)
    parser.add_argument("--flat-kib", type=int, default=8192,
                        help="largest growth allowed between the first sample after warm-up and the last")
    args = parser.parse_args()
    checks = Checks()
    with Server("--parallel", "2", "--queue", "16", "--ctx", "1024") as server:
        port = server.port
        samples = []
        stop = threading.Event()
        started = time.monotonic()

        def sample():
            while True:
                samples.append((time.monotonic() - started, server.rss_kib()))
                print(f"  {samples[-1][0] / 60:5.1f} min  RSS {samples[-1][1] / 1024:7.1f} MiB", flush=True)
                if stop.wait(args.sample_seconds):
                    return

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        rounds = 0
        valid = malformed = 0
        problems = []
        bad_statuses = []
        latencies = {}
        while time.monotonic() - started < args.minutes * 60:
            round_latencies, round_problems, invalid, seconds = load_check.run_round(port)
            rounds += 1
            valid += sum(len(v) for v in round_latencies.values())
            malformed += len(invalid)
            problems += round_problems
            bad_statuses += [(why, status) for why, status in invalid if not 400 <= status < 500]
            for kind, values in round_latencies.items():
                latencies.setdefault(kind, []).extend(values)
            print(f"round {rounds}: {seconds:.1f} s, {len(round_problems)} problems", flush=True)
        stop.set()
        sampler.join(10)
        wait_until(lambda: load_check.health(port)[1]["slots_processing"] == 0)
        samples.append((time.monotonic() - started, server.rss_kib()))

        print(f"{rounds} rounds in {(time.monotonic() - started) / 60:.1f} min: {valid} valid requests, "
              f"{malformed} malformed")
        for kind, values in sorted(latencies.items()):
            print(f"  {kind:18} n={len(values):5}  p50 {load_check.milliseconds(values, 50):6.0f} ms  "
                  f"p95 {load_check.milliseconds(values, 95):6.0f} ms  max {1000 * max(values):6.0f} ms")
        print("RSS (MiB) by minute: " + " ".join(f"{kib / 1024:.1f}" for _, kib in samples))
        for problem in problems[:10]:
            print("  problem:", problem)
        # The first sample is the idle server; the second, a minute into the load, is warm.
        warm = samples[1][1] if len(samples) > 2 else samples[0][1]
        growth = samples[-1][1] - warm
        checks.check(f"all {valid} valid requests answered validly", valid > 0 and not problems, problems[:3])
        checks.check(f"all {malformed} malformed requests got a 4xx", not bad_statuses, bad_statuses[:3])
        checks.check(f"memory flat after the first minute (within {args.flat_kib} KiB)", growth <= args.flat_kib,
                     f"{growth:+d} KiB")
        status, state = load_check.health(port)
        checks.check("the server still answers /health", status == 200 and state["status"] == "ok", state)
    checks.check("the server exits 0 on SIGTERM", server.exit_status == 0, server.exit_status)
    return checks.summary()


if __name__ == "__main__":
    sys.exit(main())
