#!/usr/bin/env bash
# Builds llama.cpp (the peer infer is measured against) from the source distribution of the
# PyPI package llama-cpp-python, CPU only, into Benchmarks/llama.cpp/ (ignored by git).
# Produces llama-bench, llama-perplexity, llama-tokenize and llama-server in
# Benchmarks/llama.cpp/build/bin; src/vendor/llama.cpp/convert_hf_to_gguf.py (with its gguf-py)
# converts Hugging Face models to GGUF.
# Needs: pip, cmake (apt-get install -y cmake), a C++ compiler. About 5 minutes on 2 cores.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
version="${LLAMA_CPP_PYTHON_VERSION:-0.3.36}"
work="$here/llama.cpp"
mkdir -p "$work"
cd "$work"
if [ ! -d src ]; then
    # The sdist from PyPI's JSON API (`pip download` would build the package's build
    # dependencies from source to read its metadata).
    python3 - "$version" <<'PY'
import json, sys, urllib.parse, urllib.request
api = "https://pypi.org/pypi/llama-cpp-python/json"
files = json.load(urllib.request.urlopen(api))["releases"][sys.argv[1]]
sdist = next(f["url"] for f in files if f["packagetype"] == "sdist")
urllib.request.urlretrieve(urllib.parse.urljoin(api, sdist), "llama-cpp-python.tar.gz")
PY
    mkdir -p src
    tar -xzf llama-cpp-python.tar.gz -C src --strip-components=1
fi
command -v cmake >/dev/null || { echo "cmake is needed: apt-get install -y cmake" >&2; exit 1; }
cmake -S src/vendor/llama.cpp -B build -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON \
    -DLLAMA_CURL=OFF -DGGML_OPENMP=ON -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_SERVER=ON >/dev/null
cmake --build build -j "$(nproc)" --target llama-bench llama-perplexity llama-tokenize llama-server
echo "built: $work/build/bin"
