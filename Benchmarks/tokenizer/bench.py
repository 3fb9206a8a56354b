#!/usr/bin/env python3
"""Tokenizer speed, infer against Hugging Face `tokenizers`, on one core in the same run.

For the Llama 3 (128k vocabulary) and Qwen 3 (151k) tokenizer.json files of ../shared:
- load: reading tokenizer.json (+ tokenizer_config.json) into a usable tokenizer;
- encode: 1 MB of mixed English text (make-english-text.py) to ids.

infer is measured through `infer tokenize --ids`, as a user runs it: load is a run on empty
text (so it includes starting the process), encode is a run on the 1 MB text minus that.
`tokenizers` is measured in-process (`Tokenizer.from_file`, `encode`). Each figure is the best
of --runs runs, as wall-clock and CPU time; the whole process is pinned to CPU 0. Both
tokenizers' ids for the text are compared.

Usage: python3 Benchmarks/tokenizer/bench.py [--infer .build/release/infer] [--shared ../shared] [--runs 5]
Needs: swift build -c release; pip install tokenizers
"""
import argparse, os, resource, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "../.."))


def best(runs, measure):
    """min wall and min CPU seconds over runs of measure() -> (wall, cpu, result)."""
    results = [measure() for _ in range(runs)]
    return min(r[0] for r in results), min(r[1] for r in results), results[-1][2]


def run_infer(binary, tokenizer, text):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = subprocess.run([binary, "tokenize", "--ids", tokenizer] + ([] if text else [""]),
                         input=(text or "").encode(), capture_output=True, check=True).stdout
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, [int(x) for x in out.split()]


def timed(body):
    start, cpu = time.perf_counter(), time.process_time()
    result = body()
    return time.perf_counter() - start, time.process_time() - cpu, result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--infer", default=os.path.join(ROOT, ".build/release/infer"))
    parser.add_argument("--shared", default=os.environ.get("INFER_SHARED", os.path.join(ROOT, "../shared")))
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    os.sched_setaffinity(0, {0})
    os.environ["RAYON_NUM_THREADS"] = "1"
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    from tokenizers import Tokenizer, __version__ as hf_version

    text = subprocess.run([sys.executable, os.path.join(HERE, "make-english-text.py")],
                          capture_output=True, text=True, check=True).stdout
    print(f"text: {len(text.encode())} bytes of mixed English; one core (CPU 0); best of {args.runs} runs; "
          f"wall s (CPU s); tokenizers {hf_version}")
    print()
    print("| tokenizer | infer load | tokenizers load | infer encode 1 MB | tokenizers encode 1 MB | tokens | same ids |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, label in (("llama3", "Llama 3 (128k)"), ("qwen3", "Qwen 3 (151k)")):
        directory = os.path.join(args.shared, "tokenizers", name)
        load_wall, load_cpu, _ = best(args.runs, lambda: run_infer(args.infer, directory, None))
        total_wall, total_cpu, ours = best(args.runs, lambda: run_infer(args.infer, directory, text))
        hf_load_wall, hf_load_cpu, tokenizer = best(
            args.runs, lambda: timed(lambda: Tokenizer.from_file(os.path.join(directory, "tokenizer.json"))))
        hf_wall, hf_cpu, encoding = best(args.runs, lambda: timed(lambda: tokenizer.encode(text)))
        print(f"| {label} | {load_wall:.3f} ({load_cpu:.3f}) | {hf_load_wall:.3f} ({hf_load_cpu:.3f}) "
              f"| {total_wall - load_wall:.3f} ({total_cpu - load_cpu:.3f}) | {hf_wall:.3f} ({hf_cpu:.3f}) "
              f"| {len(ours)} | {'yes' if ours == encoding.ids else 'NO'} |")


main()
