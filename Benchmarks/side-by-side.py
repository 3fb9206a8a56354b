#!/usr/bin/env python3
"""infer bench and llama.cpp's llama-bench on the same GGUF files, the same tests and thread
counts, in one run (infer first, then llama.cpp, for each file and thread count); prints both engines' tokens/s and the ratio infer / llama.cpp.

Usage (from the repository root, after `swift build -c release` and
Benchmarks/build-llama-cpp.sh):
    python3 Benchmarks/side-by-side.py                      # TinyLlama F16, Q8_0, Q4_0, Q4_K_M
    python3 Benchmarks/side-by-side.py -p 512 -n 128 -t 1,2 -r 5 FILE.gguf ...

Without files it uses TinyLlama-1.1B-shaped random-weight files in /tmp/infer-bench/, making
any that are missing with ../shared/tools/make-bench-gguf.py. For each file and thread count
the two engines run back to back, so both see the same machine load; a file infer cannot
load yet (a type it does not compute) is reported and skipped.
"""
import argparse, json, os, resource, subprocess, sys

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


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="*")
    ap.add_argument("-p", "--n-prompt", default="512")
    ap.add_argument("-n", "--n-gen", default="128")
    ap.add_argument("-t", "--threads", default="1,2")
    ap.add_argument("-r", "--repetitions", default="5")
    ap.add_argument("--infer", default=os.path.join(root, ".build/release/infer"))
    ap.add_argument("--llama-bench", default=os.path.join(here, "llama.cpp/build/bin/llama-bench"))
    ap.add_argument("--files-dir", default="/tmp/infer-bench")
    args = ap.parse_args()
    files = args.files or make_default_files(args.files_dir)

    print("| file | test | threads | llama.cpp t/s | infer t/s | infer / llama.cpp | CPU s llama.cpp / infer |")
    print("| ---- | ---- | ------: | ------------: | --------: | ----------------: | ----------------------: |")
    for path in files:
        name = os.path.basename(path)
        for threads in args.threads.split(","):
            common = ["-p", args.n_prompt, "-n", args.n_gen, "-t", threads, "-r", args.repetitions]
            infer, infer_error = run_json([args.infer, "bench", path, "--json"] + common)
            if infer_error:
                print(f"| {name} | | {threads} | | {infer_error} | | |", flush=True)
                continue
            llama, llama_error = run_json([args.llama_bench, "-m", path, "-o", "json"] + common)
            if llama_error:
                print(f"| {name} | | {threads} | {llama_error} | | | |", flush=True)
                continue
            (llama, llama_cpu), (infer, infer_cpu) = llama, infer
            cpu = f"{llama_cpu:.1f} / {infer_cpu:.1f}"
            by_test = {(t["n_prompt"], t["n_gen"]): t for t in infer}
            for l in llama:
                i = by_test.get((l["n_prompt"], l["n_gen"]))
                test = f"pp{l['n_prompt']}" if l["n_gen"] == 0 else f"tg{l['n_gen']}"
                if i is None:
                    continue
                print(f"| {name} | {test} | {threads} | {l['avg_ts']:.2f} ± {l['stddev_ts']:.2f} | "
                      f"{i['avg_ts']:.2f} ± {i['stddev_ts']:.2f} | {i['avg_ts'] / l['avg_ts']:.2f} | {cpu} |", flush=True)


if __name__ == "__main__":
    main()
