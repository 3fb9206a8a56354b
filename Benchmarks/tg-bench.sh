#!/usr/bin/env bash
# Generation speed (tg) of infer on TinyLlama-1.1B-shaped random-weight GGUFs, with 1 thread
# and with every core: the median of several runs of
#   infer generate MODEL -t 0 -n 128 --threads N
# next to the memory-bandwidth roofline (bandwidth ÷ bytes of weights read per token).
#
#   Benchmarks/tg-bench.sh [runs] [types...]       (default: 5 runs; f16 q8_0 q4_0 q4_k_m)
#
# Makes the models in $MODELS (default /tmp) with ../shared/tools/make-bench-gguf.py if they
# are missing (needs pip install gguf numpy). The CPU may be shared: check `uptime` first.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
shared="${INFER_SHARED:-$(dirname "$repo")/shared}"
models="${MODELS:-/tmp}"
runs="${1:-5}"
shift || true
types=("${@:-f16 q8_0 q4_0 q4_k_m}")
read -r -a types <<< "${types[*]}"
cores="$(nproc)"

swift build -c release --product infer --package-path "$repo" >/dev/null
infer="$repo/.build/release/infer"

median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

# Bytes of weights one token reads: every tensor but the token embedding (one row of it).
per_token_bytes() {
    python3 - "$1" <<'PY'
import sys, gguf
r = gguf.GGUFReader(sys.argv[1])
print(sum(int(t.n_bytes) for t in r.tensors if t.name != "token_embd.weight"))
PY
}

echo "$(date -u +%F) $(uname -m), $cores cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
printf "%-8s %8s %8s %12s\n" type threads "tok/s" "GB/s read"
for t in "${types[@]}"; do
    model="$models/tinyllama-$t.gguf"
    [ -f "$model" ] || python3 "$shared/tools/make-bench-gguf.py" --shape tinyllama --type "$t" --out "$model" >&2
    bytes="$(per_token_bytes "$model")"
    for threads in 1 "$cores"; do
        speeds=()
        for _ in $(seq "$runs"); do
            speeds+=("$("$infer" generate "$model" -t 0 -n 128 --threads "$threads" 2>&1 >/dev/null |
                sed -n 's/.*generated: [0-9]* tokens, \([0-9.]*\) tokens\/s.*/\1/p')")
        done
        tps="$(printf '%s\n' "${speeds[@]}" | median)"
        printf "%-8s %8d %8.1f %12.1f\n" "$t" "$threads" "$tps" "$(echo "$tps * $bytes / 1000000000" | bc -l)"
    done
done
