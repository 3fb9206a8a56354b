#!/usr/bin/env python3
"""infer serve and llama.cpp's llama-server side by side with concurrent streams: the aggregate
tokens/s of 1, 2, 4, 8 streamed completions at once, and the time to first token of a short
request sent while long prompts are being processed. Same file, threads and slot count for both
servers; they run in turn (infer first in even rounds, llama-server first in odd ones), each
started fresh for its turn, so both see the same machine load.

Usage (from the repository root, after `swift build -c release` and Benchmarks/build-llama-cpp.sh;
needs the `openai` package):
    python3 Benchmarks/concurrent-streams.py FILE.gguf [--threads 2] [--streams 1,2,4,8]
        [--tokens 64] [--rounds 3] [--ttft] [--infer .build/release/infer] [--llama-server PATH]

Each burst sends k streamed completions (`/v1/completions`, greedy, distinct prompts, usage in
the last chunk) at once and measures the wall time from sending to the last chunk; the aggregate
is the completion tokens of all k over that time (short prompts: their processing is in it for
both servers). With --ttft, three prompts of ~1500 tokens are sent at once, then after 0.25 s a
short one; its time to first token is from its own sending to its first text chunk.
"""
import argparse, json, os, re, signal, statistics, subprocess, sys, threading, time

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)

try:
    from openai import OpenAI
except ImportError:
    sys.exit("concurrent-streams.py needs the openai package (pip install openai)")

TOPICS = ["the Roman Empire", "the history of mathematics", "a journey across the ocean", "the life of bees",
          "the invention of the printing press", "a city in the mountains", "the stars and the planets",
          "a small bakery", "the first computers", "a long winter"]


def prompt(round_number, index):
    topic = TOPICS[index % len(TOPICS)]
    return f"Essay {round_number}.{index}. This is a long and detailed essay about {topic}. It begins in a time long ago, when"


class Server:
    """A server process on a free port, stopped with SIGTERM at the end of the `with` block."""

    def __init__(self, name, command, ready, env=None):
        self.name, self.command, self.ready, self.env = name, command, ready, env

    def __enter__(self):
        self.process = subprocess.Popen(self.command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, text=True, env=self.env)
        listening = threading.Event()
        self.lines = []

        def read():
            for line in self.process.stderr:
                self.lines.append(line)
                if self.ready.search(line):
                    listening.set()

        threading.Thread(target=read, daemon=True).start()
        if not listening.wait(300):
            self.process.kill()
            raise RuntimeError(f"{self.name} did not start: " + "".join(self.lines[-20:]))
        return self

    def __exit__(self, *exc):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        return False


def infer_server(args, port, slots, context):
    command = [args.infer, "serve", args.file, "--port", str(port), "--parallel", str(slots), "-c", str(context),
               "--threads", str(args.threads)]
    return Server("infer", command, re.compile(r"listening on"))


def llama_server(args, port, slots, context):
    binary = args.llama_server
    env = dict(os.environ, LD_LIBRARY_PATH=os.path.dirname(binary))
    command = [binary, "-m", args.file, "--port", str(port), "-np", str(slots), "-c", str(slots * context),
               "-t", str(args.threads), "-tb", str(args.threads), "--no-webui"]
    return Server("llama-server", command, re.compile(r"listening on http"), env)


def stream_one(client, model, text, max_tokens, result, index, started):
    """One streamed completion: (tokens, seconds to the first text, seconds to the end)."""
    start = time.monotonic()
    first = None
    tokens = 0
    stream = client.completions.create(model=model, prompt=text, max_tokens=max_tokens, temperature=0, stream=True,
                                       stream_options={"include_usage": True})
    for chunk in stream:
        if chunk.choices and chunk.choices[0].text and first is None:
            first = time.monotonic() - start
        if chunk.usage:
            tokens = chunk.usage.completion_tokens
    result[index] = (tokens, first, time.monotonic() - start, start - started)


def burst(client, model, k, max_tokens, round_number):
    """k streams at once: (aggregate tokens/s, tokens, seconds)."""
    results = [None] * k
    started = time.monotonic()
    threads = [threading.Thread(target=stream_one, args=(client, model, prompt(round_number, i), max_tokens, results, i, started))
               for i in range(k)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.monotonic() - started
    tokens = sum(r[0] for r in results)
    return tokens / seconds, tokens, seconds


def time_to_first_token(client, model, round_number):
    """TTFT of a short request sent 0.25 s after three ~1500-token prompts."""
    long_text = " ".join(f"Paragraph {i} of the report on {TOPICS[i % len(TOPICS)]} for round {round_number}, "
                         "which says that the work went on as planned and that the results were as expected."
                         for i in range(40))
    results = [None] * 4
    started = time.monotonic()
    threads = [threading.Thread(target=stream_one, args=(client, model, f"{i}: {long_text}", 8, results, i, started))
               for i in range(3)]
    for t in threads:
        t.start()
    time.sleep(0.25)
    stream_one(client, model, f"Hello {round_number}, tell me", 8, results, 3, started)
    for t in threads:
        t.join()
    return results[3][1], max(r[2] + r[3] for r in results[:3])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--streams", default="1,2,4,8")
    ap.add_argument("--tokens", type=int, default=64, help="tokens each stream generates at most")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--context", type=int, default=2048, help="positions of each slot")
    ap.add_argument("--ttft", action="store_true", help="also time a short request behind three long prompts")
    ap.add_argument("--infer", default=os.path.join(root, ".build/release/infer"))
    ap.add_argument("--llama-server", default=os.path.join(root, "Benchmarks/llama.cpp/build/bin/llama-server"))
    ap.add_argument("--engines", default="infer,llama-server")
    ap.add_argument("--port", type=int, default=18080)
    args = ap.parse_args()
    streams = [int(s) for s in args.streams.split(",")]
    slots = max(streams + ([4] if args.ttft else []))
    engines = {"infer": infer_server, "llama-server": llama_server}
    names = args.engines.split(",")
    rates = {(n, k): [] for n in names for k in streams}
    ttfts = {n: [] for n in names}
    model = os.path.splitext(os.path.basename(args.file))[0]
    print(f"{args.file}: {args.threads} threads, {slots} slots of {args.context} positions, {args.tokens} tokens a stream; "
          f"load average {os.getloadavg()[0]:.2f} at the start", flush=True)
    for r in range(args.rounds):
        order = names if r % 2 == 0 else names[::-1]
        for name in order:
            with engines[name](args, args.port, slots, args.context):
                client = OpenAI(base_url=f"http://127.0.0.1:{args.port}/v1", api_key="unused", max_retries=0, timeout=600)
                burst(client, model, 1, 4, -1 - r)  # warm-up: the weights paged in, the first pass made
                line = []
                for k in streams:
                    rate, tokens, seconds = burst(client, model, k, args.tokens, r)
                    rates[(name, k)].append(rate)
                    line.append(f"{k}: {rate:6.1f} t/s ({tokens} tokens, {seconds:.1f} s)")
                if args.ttft:
                    ttft, longs = time_to_first_token(client, model, r)
                    ttfts[name].append(ttft)
                    line.append(f"TTFT behind 3 long prompts: {ttft:.2f} s (the long ones done after {longs:.1f} s)")
                print(f"round {r + 1} {name:12} " + "  ".join(line) + f"  [load {os.getloadavg()[0]:.2f}]", flush=True)
    print("\nmedian aggregate tokens/s over the rounds")
    print("| streams | " + " | ".join(names) + (" | infer / llama-server |" if len(names) == 2 else " |"))
    print("| --: | " + " | ".join("--:" for _ in names) + (" | --: |" if len(names) == 2 else " |"))
    for k in streams:
        medians = [statistics.median(rates[(n, k)]) for n in names]
        ratio = f" | {medians[0] / medians[1]:.2f}" if len(names) == 2 and medians[1] > 0 else ""
        print(f"| {k} | " + " | ".join(f"{m:.1f}" for m in medians) + ratio + " |")
    for n in names:
        one = statistics.median(rates[(n, streams[0])])
        print(f"{n}: " + ", ".join(f"{k} streams {statistics.median(rates[(n, k)]) / one:.2f}x" for k in streams[1:])
              + f" of {streams[0]} stream(s)")
    if args.ttft:
        for n in names:
            print(f"{n}: time to first token behind 3 long prompts, median {statistics.median(ttfts[n]):.2f} s "
                  f"({', '.join(f'{t:.2f}' for t in ttfts[n])})")
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
