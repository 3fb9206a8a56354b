#!/usr/bin/env python3
"""Generation speed with and without a grammar: `infer generate --json-report` on one model, the
two runs in turn for each round (so both meet the same machine load), the same prompt, seed and
token budget; prints each round's tokens/s and the medians with their ratio, and the share of the
constrained runs' generation time the grammar's masks took (`grammar_seconds`, measured inside the
run, so it does not depend on the load moving between runs; the mask's filter over the candidates
is not in it: `grammar-bench` measures that).

  python3 Benchmarks/grammar-speed.py MODEL --schema SCHEMA.json [-n 128] [--rounds 5] [-t 1] [--threads N]

The schema should make answers longer than -n tokens (minimum lengths and counts), so that the
constrained runs generate exactly -n tokens (a free run may end sooner, at the model's end of
text). Needs `swift build -c release` (or --infer PATH)."""
import argparse, json, os, statistics, subprocess, sys

here = os.path.dirname(os.path.abspath(__file__))
parser = argparse.ArgumentParser()
parser.add_argument("model")
parser.add_argument("--schema", required=True)
parser.add_argument("-n", type=int, default=128)
parser.add_argument("--rounds", type=int, default=5)
parser.add_argument("-t", "--temperature", default="1")
parser.add_argument("--threads")
parser.add_argument("--prompt", default="Data:")
parser.add_argument("--infer", default=os.path.join(here, "..", ".build", "release", "infer"))
args = parser.parse_args()


def run(constrained, seed):
    command = [args.infer, "generate", args.model, "-p", args.prompt, "-n", str(args.n), "-t", args.temperature,
               "-s", str(seed), "--json-report"]
    if args.threads:
        command += ["--threads", args.threads]
    if constrained:
        command += ["--json-schema", args.schema]
    report = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
    if constrained and report["generated_tokens"] != args.n:
        sys.exit(f"a run generated {report['generated_tokens']} tokens, not {args.n} ({report['finish_reason']}): "
                 "make the schema ask for longer answers")
    if constrained:
        shares.append(report["grammar_seconds"] / report["generation_seconds"])
    return report["generation_tokens_per_second"]


free, constrained, shares = [], [], []
for round in range(args.rounds):
    # Alternate which goes first.
    order = [False, True] if round % 2 == 0 else [True, False]
    for grammar in order:
        (constrained if grammar else free).append(run(grammar, seed=round + 1))
    print(f"round {round + 1}: free {free[-1]:.2f} t/s, with the grammar {constrained[-1]:.2f} t/s "
          f"(masks: {100 * shares[-1]:.1f}% of its generation time)", flush=True)
a, b = statistics.median(free), statistics.median(constrained)
print(f"median: free {a:.2f} t/s, with the grammar {b:.2f} t/s, ratio {b / a:.3f}; "
      f"masks {100 * statistics.median(shares):.1f}% of the constrained generation time")
