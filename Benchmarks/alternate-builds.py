#!/usr/bin/env python3
"""Two or more builds of infer generating on the same GGUF file in turn, with the read probe (as
side-by-side.py takes it) just before and just after each run, to tell a change's effect from
this host's moving bandwidth (a two-thread probe reads 30 to 70 GB/s from one minute to the
next).

Usage (from the repository root, after `swift build -c release --product kernel-bench`; copy
each build's .build/release/infer aside first):
    python3 Benchmarks/alternate-builds.py FILE.gguf /tmp/infer-old /tmp/infer-new [-t 2] [-n 128] [-d 0] [--rounds 12]

Each round runs every build once (`bench -p 0 -n N -d D -t T -r 1`), the order rotated from
round to round, and prints the probe before, tokens/s, the probe after. The summary keeps the
runs whose two probes fall in the same band (slow: below 45 GB/s, fast: 55 and above; a run
that straddles a change of minute says nothing), and gives per build and band the median
tokens/s and the median share of the probe that generation streams (bytes of weights a token
reads × tokens/s ÷ the probes' mean).
"""
import argparse, importlib.util, os, statistics

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)
spec = importlib.util.spec_from_file_location("side_by_side", os.path.join(here, "side-by-side.py"))
side_by_side = importlib.util.module_from_spec(spec)
spec.loader.exec_module(side_by_side)

BANDS = [("slow", 0, 45), ("fast", 55, 1000)]


def band(before, after):
    for name, low, high in BANDS:
        if low <= before < high and low <= after < high:
            return name
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file")
    ap.add_argument("builds", nargs="+", help="infer binaries to alternate")
    ap.add_argument("-t", "--threads", default="2")
    ap.add_argument("-n", "--n-gen", default="128")
    ap.add_argument("-d", "--depth", default="0")
    ap.add_argument("--rounds", type=int, default=12)
    ap.add_argument("--kernel-bench", default=os.path.join(root, ".build/release/kernel-bench"))
    args = ap.parse_args()

    weights = side_by_side.weights_read_per_token(args.file)
    runs = {b: [] for b in args.builds}  # (probe before, t/s, probe after)
    for r in range(args.rounds):
        k = r % len(args.builds)
        for build in args.builds[k:] + args.builds[:k]:
            before = side_by_side.probe_bandwidth(args.kernel_bench, args.file, args.threads)
            result, error = side_by_side.run_json([build, "bench", args.file, "-p", "0", "-n", args.n_gen,
                                                   "-d", args.depth, "-t", args.threads, "-r", "1", "--json"])
            if error:
                raise SystemExit(f"{build}: {error}")
            tokens_per_second = result[0][0]["avg_ts"]
            after = side_by_side.probe_bandwidth(args.kernel_bench, args.file, args.threads)
            runs[build].append((before, tokens_per_second, after))
            print(f"round {r:2d} {os.path.basename(build):20s} probe {before:5.1f}  {tokens_per_second:7.2f} t/s  "
                  f"probe {after:5.1f}", flush=True)

    print(f"\n{weights / 1e6:.1f} MB of weights a token; runs whose two probes share a band:")
    for build, rows in runs.items():
        for name, _, _ in BANDS:
            kept = [(b, ts, a) for b, ts, a in rows if band(b, a) == name]
            if not kept:
                continue
            shares = [weights * ts / 1e9 / ((b + a) / 2) for b, ts, a in kept]
            print(f"  {os.path.basename(build):20s} {name}: {len(kept):2d} runs, median {statistics.median(ts for _, ts, _ in kept):7.2f} "
                  f"t/s, {100 * statistics.median(shares):3.0f}% of the probe")


if __name__ == "__main__":
    main()
