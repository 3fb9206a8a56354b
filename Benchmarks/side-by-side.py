#!/usr/bin/env python3
"""infer bench and llama.cpp's llama-bench on the same GGUF files, the same tests and thread
counts, in one run (for each file and thread count, the two engines in turn: infer first in
even rounds, llama.cpp first in odd ones); prints both engines' tokens/s and the ratio infer / llama.cpp.

Usage (from the repository root, after `swift build -c release` and
Benchmarks/build-llama-cpp.sh):
    python3 Benchmarks/side-by-side.py                      # TinyLlama F16, Q8_0, Q4_0, Q4_K_M
    python3 Benchmarks/side-by-side.py -p 512 -n 128 -t 1,2 -r 5 FILE.gguf ...

Without files it uses TinyLlama-1.1B-shaped random-weight files in /tmp/infer-bench/, making
any that are missing with ../shared/tools/make-bench-gguf.py. For each file and thread count
the two engines run back to back, so both see the same machine load; a file infer cannot
load yet (a type it does not compute) is reported and skipped.
"""
import argparse, json, os, resource, statistics, subprocess, sys

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)
shared = os.environ.get("INFER_SHARED", os.path.join(os.path.dirname(root), "shared"))
default_types = ["f16", "q8_0", "q4_0", "q4_k_m"]


def make_default_files(directory):
    files = []
    for t in default_types:
        path = os.path.join(directory, f"tinyllama-{t}.gguf")
        if not os.path.exists(path):
            os.makedirs(directory, exist_ok=True)
            print(f"making {path}", file=sys.stderr)
            subprocess.run([sys.executable, os.path.join(shared, "tools/make-bench-gguf.py"),
                            "--shape", "tinyllama", "--type", t, "--out", path], check=True)
        files.append(path)
    return files


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_json(command):
    """The JSON array a bench command prints and the CPU seconds it took, or the error it reports."""
    before = cpu_seconds()
    p = subprocess.run(command, capture_output=True, text=True)
    if p.returncode != 0:
        lines = (p.stderr.strip() or p.stdout.strip() or "failed").splitlines()
        return None, lines[-1]
    return (json.loads(p.stdout), cpu_seconds() - before), None


def weights_read_per_token(path):
    """Bytes of weights a generated token reads: every tensor but the token embedding (one row of it)."""
    import gguf  # pip install gguf; only for --roofline
    reader = gguf.GGUFReader(path)
    return sum(int(t.n_bytes) for t in reader.tensors if t.name != "token_embd.weight")


def probe_bandwidth(kernel_bench, path, threads):
    """GB/s `threads` threads read (kernel-bench --probe-only: a huge-page buffer or the file's mapping)."""
    p = subprocess.run([kernel_bench, "--probe-only", threads, path], capture_output=True, text=True, check=True)
    return float(p.stdout.strip())


def read_into_page_cache_afresh(path):
    """Drops the file's pages from the page cache and reads it back in one sequential pass. How
    a file came into the cache decides the size of its pages there: one written by a script
    stays in small pieces, one read sequentially is held (by Linux 6.x on ext4) in 2 MiB folios
    that mappings then use as huge pages, which both engines read 5-10% faster."""
    with open(path, "rb") as f:
        os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
        while f.read(16 << 20):
            pass


def spread(values):
    mean = statistics.mean(values)
    return mean, (statistics.stdev(values) if len(values) > 1 else 0.0)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="*")
    ap.add_argument("-p", "--n-prompt", default="512")
    ap.add_argument("-n", "--n-gen", default="128")
    ap.add_argument("-d", "--n-depth", default="0",
                    help="context depths, comma-separated: tokens already in the context when a test starts")
    ap.add_argument("-t", "--threads", default="1,2")
    ap.add_argument("-r", "--repetitions", default="5")
    ap.add_argument("--rounds", type=int, default=1,
                    help="run the two engines in turn this many times per line (each with -r repetitions); "
                         "t/s is then the mean ± sd of the rounds and the ratio the median of the rounds' ratios")
    ap.add_argument("--roofline", action="store_true",
                    help="before each round, measure the read bandwidth with the same threads (kernel-bench "
                         "--probe-only) and print the share of it each engine's generation streams")
    ap.add_argument("--fresh-page-cache", action="store_true",
                    help="before measuring a file, drop it from the page cache and read it back sequentially "
                         "(the state of a freshly downloaded or first-read model file)")
    ap.add_argument("--infer", default=os.path.join(root, ".build/release/infer"))
    ap.add_argument("--kernel-bench", default=os.path.join(root, ".build/release/kernel-bench"))
    ap.add_argument("--llama-bench", default=os.path.join(here, "llama.cpp/build/bin/llama-bench"))
    ap.add_argument("--files-dir", default="/tmp/infer-bench")
    args = ap.parse_args()
    files = args.files or make_default_files(args.files_dir)

    header = "| file | test | threads | llama.cpp t/s | infer t/s | infer / llama.cpp | CPU s llama.cpp / infer |"
    rule = "| ---- | ---- | ------: | ------------: | --------: | ----------------: | ----------------------: |"
    if args.roofline:
        header += " read GB/s | roofline % llama.cpp / infer |"
        rule += " --------: | ---------------------------: |"
    print(header)
    print(rule)
    for path in files:
        name = os.path.basename(path)
        weights = weights_read_per_token(path) if args.roofline else 0
        if args.fresh_page_cache:
            read_into_page_cache_afresh(path)
        for threads in args.threads.split(","):
            common = ["-p", args.n_prompt, "-n", args.n_gen, "-d", args.n_depth, "-t", threads, "-r", args.repetitions]
            rounds, probes, cpu, error = [], [], [0.0, 0.0], None
            for round_index in range(args.rounds):
                if args.roofline:
                    probes.append(probe_bandwidth(args.kernel_bench, path, threads))
                # Odd rounds run llama.cpp first: on this host the engine that runs second in a
                # pair measured faster (F16, two threads, six rounds each way: the second engine
                # ahead by 0-9%), so each engine goes first in half the rounds.
                engines = [("infer", [args.infer, "bench", path, "--json"]),
                           ("llama", [args.llama_bench, "-m", path, "-o", "json"])]
                results = {}
                for engine, command in (engines if round_index % 2 == 0 else engines[::-1]):
                    results[engine], error = run_json(command + common)
                    if error:
                        error = (f"| {name} | | {threads} | | {error} | | |" if engine == "infer"
                                 else f"| {name} | | {threads} | {error} | | | |")
                        break
                if error:
                    break
                infer, llama = results["infer"], results["llama"]
                (llama, llama_cpu), (infer, infer_cpu) = llama, infer
                cpu[0] += llama_cpu
                cpu[1] += infer_cpu
                rounds.append((llama, infer))
            if error:
                print(error, flush=True)
                continue
            for l in rounds[0][0]:
                def key(t):
                    return t["n_prompt"], t["n_gen"], t.get("n_depth", 0)
                pairs = [(next(t for t in ll if key(t) == key(l)),
                          next((t for t in ii if key(t) == key(l)), None)) for ll, ii in rounds]
                if any(i is None for _, i in pairs):
                    continue
                test = f"pp{l['n_prompt']}" if l["n_gen"] == 0 else f"tg{l['n_gen']}"
                if l.get("n_depth", 0):
                    test += f" @ d{l['n_depth']}"
                if len(pairs) == 1:
                    (lm, ls), (im, is_) = (pairs[0][0]["avg_ts"], pairs[0][0]["stddev_ts"]), (pairs[0][1]["avg_ts"], pairs[0][1]["stddev_ts"])
                else:
                    (lm, ls), (im, is_) = spread([l["avg_ts"] for l, _ in pairs]), spread([i["avg_ts"] for _, i in pairs])
                ratio = statistics.median(i["avg_ts"] / l["avg_ts"] for l, i in pairs)
                line = (f"| {name} | {test} | {threads} | {lm:.2f} ± {ls:.2f} | {im:.2f} ± {is_:.2f} | {ratio:.2f} | "
                        f"{cpu[0]:.1f} / {cpu[1]:.1f} |")
                if args.roofline:
                    share = ""
                    if l["n_gen"] > 0 and not l.get("n_depth", 0):  # generation reads every weight once per token
                        shares = [[weights * t["avg_ts"] / 1e9 / probe for t in pair] for pair, probe in zip(pairs, probes)]
                        share = " / ".join(f"{100 * statistics.median(s[k] for s in shares):.0f}" for k in (0, 1))
                    line += f" {statistics.median(probes):.1f} | {share} |"
                print(line, flush=True)


if __name__ == "__main__":
    main()
