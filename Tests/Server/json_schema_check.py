"""Structured output with a real model: for each schema of Tests/Fixtures/json-schemas, five
answers at temperature 1.0 (seeds 1-5) through the official `openai` client's `response_format`
must each parse and validate with Python's `jsonschema` (formats checked), every time.

Two schemas set no bound on their documents' size (a recursive tree, a member of any value): a
small model at temperature 1 may nest or repeat until the token budget ends its answer, which is
then a valid but unfinished prefix. For those two only, an answer cut by `max_tokens` is
reported, not failed; every answer that ends must validate, and for every other schema each
answer must end and validate.

Uses SmolLM2-135M-Instruct (or Qwen2.5-Coder-0.5B-Instruct when infer runs it) from INFER_MODELS
(default /tmp/infer-models; ../shared/tools/fetch-models.sh fetches them); skipped with a message
when neither is there. Run by `make test` (Tests/Server/run_checks.sh)."""

import glob
import json
import os
import sys
import time

import jsonschema
import openai
from inferserver import REPOSITORY, Checks, real_model_server

MODELS = ["Qwen2.5-Coder-0.5B-Instruct.gguf", "SmolLM2-135M-Instruct-Q4_1.gguf"]
SEEDS = range(1, 6)
MAX_TOKENS = 800
UNBOUNDED = {"09-recursive-tree", "24-any-value"}
UNBOUNDED_MAX_TOKENS = 300


def main():
    checks = Checks()
    files = sorted(glob.glob(os.path.join(REPOSITORY, "Tests", "Fixtures", "json-schemas", "*.json")))
    checks.check("at least 20 schemas", len(files) >= 20, len(files))
    server = real_model_server(MODELS, "--parallel", "1", "-c", "2048")
    if server is None:
        print(f"skipping the JSON Schema check: none of {', '.join(MODELS)} found or runnable")
        return checks.summary()
    with server:
        model = server.model.rsplit("/", 1)[-1].removesuffix(".gguf")
        print(f"      model: {model}")
        client = openai.OpenAI(base_url=server.base_url + "/v1", api_key="unused", max_retries=0, timeout=600)
        started = time.monotonic()
        tokens = 0
        for path in files:
            name = os.path.basename(path).removesuffix(".json")
            with open(path) as f:
                schema = json.load(f)
            validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
            failures, cut = [], 0
            for seed in SEEDS:
                reply = client.chat.completions.create(
                    model=model, temperature=1.0, seed=seed, max_tokens=UNBOUNDED_MAX_TOKENS if name in UNBOUNDED else MAX_TOKENS,
                    messages=[{"role": "system", "content": "You answer with one JSON document and nothing else."},
                              {"role": "user", "content": "Write a JSON document for this JSON Schema:\n" + json.dumps(schema)}],
                    response_format={"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": True}})
                tokens += reply.usage.completion_tokens
                text = reply.choices[0].message.content
                if reply.choices[0].finish_reason == "length" and name in UNBOUNDED:
                    cut += 1
                    continue
                try:
                    validator.validate(json.loads(text))
                except Exception as error:
                    failures.append(f"seed {seed} ({reply.choices[0].finish_reason}): {type(error).__name__}: {str(error).splitlines()[0]}: {text!r}")
            verdict = f"{name}: {len(SEEDS)} answers validate" if not cut else \
                f"{name}: {len(SEEDS) - cut} answers validate, {cut} cut at {UNBOUNDED_MAX_TOKENS} tokens (no bound in the schema)"
            checks.check(verdict, not failures, "\n      ".join([""] + failures))
        seconds = time.monotonic() - started
        print(f"      {len(files) * len(SEEDS)} answers, {tokens} tokens in {seconds:.0f} s")
    checks.check("the server exits 0 on SIGTERM", server.exit_status == 0, server.exit_status)
    return checks.summary()


if __name__ == "__main__":
    sys.exit(main())
