#!/usr/bin/env bash
# The server checks that need Python: the official openai client against `infer serve`, the
# load check, and with a real model (skipped when none is in INFER_MODELS, default
# /tmp/infer-models) tool calls and JSON Schema answers. Run by `make test` after the build.
# The openai and jsonschema packages go into a virtual environment under .build/, not the
# system's Python.
# Without python3 (or, outside CI, without a way to install openai) the checks are skipped
# with a message; in CI (CI=true) that is a failure.
set -euo pipefail
cd "$(dirname "$0")/../.."

skip() {
    if [ "${CI:-}" = true ]; then
        echo "server checks: $1" >&2
        exit 1
    fi
    echo "skipping the server checks: $1"
    exit 0
}

command -v python3 >/dev/null || skip "python3 not found"
# INFER_BINARY: another build of infer to check (make sanitize uses its sanitized one).
binary=${INFER_BINARY:-.build/debug/infer}
[ -x "$binary" ] || skip "$binary not built (run swift build)"
[ -f "${INFER_SHARED:-../shared}/models/stories260K.gguf" ] || skip "shared test data not found: set INFER_SHARED (default ../shared)"

venv=.build/python
if ! "$venv/bin/python" -c "import openai, jsonschema" 2>/dev/null; then
    python3 -m venv "$venv" >/dev/null 2>&1 || skip "python3 cannot create a virtual environment (install python3-venv)"
    "$venv/bin/pip" install --quiet --disable-pip-version-check openai jsonschema || skip "pip could not install openai and jsonschema"
fi

echo "== openai client check"
"$venv/bin/python" Tests/Server/openai_client_check.py
echo "== load check"
"$venv/bin/python" Tests/Server/load_check.py
echo "== tool call check (real model)"
"$venv/bin/python" Tests/Server/tool_calls_check.py
echo "== JSON Schema check (real model)"
"$venv/bin/python" Tests/Server/json_schema_check.py
