#!/usr/bin/env python3
"""Golden outputs of llama.cpp for the real models of ../shared/tools/fetch-models.sh.

For each model in MODELS (default /tmp/infer-models), writes <name>.json here with
- "tokenize": for a set of strings (llama.cpp's tokenizer suite from ../shared/vocab plus chat
  markup with the model's special tokens), the ids `llama-tokenize --ids` gives (the model's
  own BOS default, special tokens parsed), and the same without parsing special tokens;
- "perplexity": llama-perplexity's value over Tests/InferKitTests/Fixtures/perplexity-story.txt
  (-c 256, the first 4 chunks, f32 KV cache, flash attention off, as infer computes).

Needs llama.cpp's binaries (Benchmarks/build-llama-cpp.sh). RealModelTests reads the files and
skips a model whose GGUF is absent.

    python3 Tests/Fixtures/real-models/make_goldens.py [MODELS_DIR]
"""
import json, os, re, subprocess, sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent.parent
SHARED = Path(os.environ.get("INFER_SHARED", ROOT.parent / "shared"))
BIN = ROOT / "Benchmarks/llama.cpp/build/bin"
MODELS = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/infer-models")
TEXT = "Tests/InferKitTests/Fixtures/perplexity-story.txt"

FILES = {
    "SmolLM2-135M-Instruct-Q4_1.gguf": "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n",
    "Qwen2.5-Coder-0.5B-Instruct.gguf": "<|im_start|>user\nWrite `print(\"hi\")` in Python.<|im_end|>\n<|im_start|>assistant\n",
    "Qwen2.5-Coder-1.5B-Instruct-Q4_K_M.gguf": "<|im_start|>system\nYou are Qwen.<|im_end|>\n<|im_start|>user\n<tool_call>{\"a\": 1}</tool_call><|im_end|>\n",
    "gemma-3-270m-Q4_K_M.gguf": "<start_of_turn>user\nWhat is the capital of France?<end_of_turn>\n<start_of_turn>model\n",
}


def suite_strings():
    text = (SHARED / "vocab/ggml-vocab-llama-spm.gguf.inp").read_text(encoding="utf-8")
    return text.split("\n__ggml_vocab_test__\n")[:-1]


def tokenize(model, text, parse_special=True):
    args = [str(BIN / "llama-tokenize"), "-m", str(model), "--stdin", "--ids", "--log-disable"]
    if not parse_special:
        args.append("--no-parse-special")
    out = subprocess.run(args, input=text.encode("utf-8"), capture_output=True, check=True).stdout.decode()
    return json.loads(out.strip().splitlines()[-1])


def perplexity(model):
    args = [str(BIN / "llama-perplexity"), "-m", str(model), "-f", str(ROOT / TEXT), "-c", "256", "--chunks", "4",
            "-b", "256", "-ctk", "f32", "-ctv", "f32", "-fa", "off", "-t", "2"]
    for _ in range(3):  # the tool sometimes loses its last lines at exit
        out = subprocess.run(args, capture_output=True, text=True).stderr
        m = re.search(r"Final estimate: PPL = ([0-9.]+) \+/- ([0-9.]+)", out)
        if m:
            return {"text_file": TEXT, "ctx": 256, "chunks": 4, "llama_cpp_ppl": float(m.group(1)),
                    "command": " ".join(["llama-perplexity"] + args[1:]).replace(str(ROOT) + "/", "")}
    raise RuntimeError(f"no estimate from llama-perplexity for {model}")


def main():
    strings = suite_strings()
    for name, chat in FILES.items():
        model = MODELS / name
        if not model.exists():
            print(f"skipping {name}: not in {MODELS}")
            continue
        cases = [{"text": s, "ids": tokenize(model, s), "ids_plain": tokenize(model, s, parse_special=False)}
                 for s in strings + [chat]]
        golden = {"file": name, "tokenize": cases, "perplexity": perplexity(model)}
        (HERE / (Path(name).stem + ".json")).write_text(json.dumps(golden, ensure_ascii=False, indent=1) + "\n")
        print(f"{name}: {len(cases)} strings, ppl {golden['perplexity']['llama_cpp_ppl']}")


if __name__ == "__main__":
    main()
