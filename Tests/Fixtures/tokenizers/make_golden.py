#!/usr/bin/env python3
"""Writes golden.json: token ids from the reference implementations for a broad corpus, which
Tests/InferKitTests/Tokenizer/TokenizerGoldenTests.swift compares infer's tokenizers with.

References:
- Hugging Face `tokenizers` for the Llama 3 and Qwen 3 tokenizer.json files in ../shared, and
  for the byte-level BPE vocabularies of ../shared/vocab rebuilt as `tokenizers` objects: the
  GGUF's tokens and merges, its control tokens as special added tokens and user-defined ones as
  plain added tokens, and llama.cpp's pre-tokenizer regexes for its `tokenizer.ggml.pre` as
  `Split` steps (run by `tokenizers`' own regex engine) followed by `ByteLevel`.
- `sentencepiece` for SentencePiece BPE: the Llama 2 vocabulary (from the llama-spm GGUF, with
  the settings of Meta's tokenizer.model: identity normalization, dummy prefix, no whitespace
  collapsing, byte fallback) and the 512-token stories vocabulary (tok512.model with whitespace
  collapsing turned off, as llama2.c's encoder never collapses).
- The `regex` module for the Unicode classes of the corpus's characters and a sweep of code points.

Usage: python3 make_golden.py [SHARED_DIR] (default ../../../../shared from this file).
Needs: pip install tokenizers sentencepiece protobuf gguf regex
"""
import json, os, sys

import gguf
import regex
import sentencepiece as spm
import tokenizers
from sentencepiece import sentencepiece_model_pb2 as sp_model
from tokenizers import AddedToken, Regex, Tokenizer, models, pre_tokenizers

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "../../../../shared"))

CORPUS = [
    # English, contractions in every case, quotes
    "The quick brown fox jumps over the lazy dog.",
    "I'm sure you'll see they've gone; it's what we'd do. DON'T SHOUT, HE'S ASLEEP, THEY'RE TIRED, WE'LL GO, I'D SAY, YOU'VE WON.",
    "'quoted' \"double\" `back` 'S 'T 'Re 'lL",
    # numbers in several systems
    "1234567890 3.14159 1,000,000 -42 +7 0x1F 1e-10 ½ ² Ⅻ ٣٤٥ १२३ ௧௨௩ 一二三",
    # scripts
    "Größe, Straße und Übermaß — déjà vu, où ça? Zażółć gęślą jaźń. Cửa Việt Nam.",
    "Привет, мир! Съешь же ещё этих мягких французских булок. Καλημέρα κόσμε. Բարեւ աշխարհ. გამარჯობა",
    "שלום עולם! مرحبا بالعالم، كيف حالك؟ سلام دنیا",
    "नमस्ते दुनिया। হ্যালো বিশ্ব வணக்கம் உலகம் ສະບາຍດີ สวัสดีชาวโลก",
    "កាន់តែពិសេសអាចខលចេញ မင်္ဂလာပါ བཀྲ་ཤིས་བདེ་ལེགས། ሰላም ዓለም ᏣᎳᎩ",
    "你好，世界！我想在apple工作1314151天～ こんにちは世界、カタカナとｶﾀｶﾅ。안녕하세요 세계",
    # combining marks, normalization-sensitive text
    "e\u0301 vs é, A\u030a vs Å, n\u0303 vs ñ, \u1e9b\u0323",
    "Z̴̡̛a̷l̶g̸o̵ ̷t̶e̵x̴t̸ ḁ̶̜̓n̶d̴ ̵m̸a̵r̶k̵s̷",
    # emoji: skin tones, ZWJ families, flags, keycaps, variation selectors
    "👍🏽 👨‍👩‍👧‍👦 🏳️‍🌈 🇫🇷🇯🇵 1️⃣ ❤️ 🧑🏿‍🚀 🫨 😀😃😄😁 🦙.cpp",
    "🚀 (normal) 😶\u200d🌫️ (multiple emojis concatenated) ✅ (only emoji that has its own token)",
    # whitespace of every kind
    "a  b   c    d",
    "\t\tindented\n\n\n  \n\tx",
    "line\r\nbreak\r\n\r\nend\r",
    "trailing   ",
    "   leading",
    "nbsp\u00a0here, ideographic\u3000space, en\u2002quad, line\u2028separator, nel\u0085end, zwsp\u200bhere",
    "\x0b\x0c vertical tab and form feed",
    # code
    "def fib(n: int) -> int:\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n",
    "func greet(_ name: String) -> String {\n\treturn \"Hello, \\(name)!\"  // comment\n}\n",
    "{\"key\": [1, 2.5, true, null], \"nested\": {\"a\": \"b\\n\"}}",
    "<div class=\"x\" id='y'>&amp; &lt;tag&gt;</div><!-- comment -->",
    "ls -la | grep '^d' && echo $HOME > /tmp/out.txt 2>&1; x=$((1+2))",
    "template<typename T> std::vector<T> v{1,2,3}; a->b; c::d; e ? f : g;",
    "https://example.com/path?q=1&r=two#frag user.name+tag@example.co.uk",
    "| col | col2 |\n|-----|------|\n| `x` | **y** |",
    # long repeats
    "a" * 500,
    "ab" * 200,
    " " * 150,
    "\n" * 60,
    "🙂" * 60,
    "1234567890" * 30,
    "==" * 150,
    "ñ" * 200,
    "Pneumonoultramicroscopicsilicovolcanoconiosis" * 6,
    # special-token-looking text
    "<|im_start|>user\nhi there<|im_end|>\n<|im_start|>assistant\n",
    "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|>",
    "<s>[INST] hi [/INST] ok</s> <|endoftext|> <think>\nhmm\n</think>",
    # control and unusual characters
    "\x00\x01\x1f\x7f bell\x07 \ufeffbom \u00adsoft \ue000private \u0378unassigned \ufffd",
    # math, currency, symbols
    "∑x² ≤ ∞, ∀x∈ℝ: α+β=γ → ⇒ ⊆ ∅; $100 €50 £30 ¥1000 ₹5 ©®™ §¶ †‡ •…",
    "Hello世界123abc!!!???...---___~~~",
    "",
    " ",
    "ied 4 ½ months",
]

VOCAB = os.path.join(SHARED, "vocab")

# llama.cpp's pre-tokenizer regexes (src/llama-vocab.cpp) for the vocabularies rebuilt here.
GPT2 = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)"
CJK = "[\u4e00-\u9fa5\u0800-\u4e00\uac00-\ud7ff]+"
DEEPSEEK_LETTERS = ("\\s?[A-Za-z\u00b5\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u01ba\u01bc-\u01bf\u01c4-\u0293\u0295-\u02af"
    "\u0370-\u0373\u0376\u0377\u037b-\u037d\u037f\u0386\u0388-\u038a\u038c\u038e-\u03a1\u03a3-\u03f5\u03f7-\u0481"
    "\u048a-\u052f\u0531-\u0556\u10a0-\u10c5\u13a0-\u13f5\u13f8-\u13fd\u1c90-\u1cba\u1cbd-\u1cbf\u1d00-\u1d2b"
    "\u1d6b-\u1d77\u1d79-\u1d9a\u1e00-\u1f15\u1f18-\u1f1d\u1f20-\u1f45\u1f48-\u1f4d\u1f50-\u1f57\u1f59\u1f5b\u1f5d"
    "\u1f5f-\u1f7d\u1f80-\u1fb4\u1fb6-\u1fbc\u1fbe\u1fc2-\u1fc4\u1fc6-\u1fcc\u1fd0-\u1fd3\u1fd6-\u1fdb\u1fe0-\u1fec"
    "\u1ff2-\u1ff4\u1ff6-\u1ffc\u2102\u2107\u210a-\u2113\u2115\u2119-\u211d\u2124\u2126\u2128\u212a-\u212d"
    "\u212f-\u2134\u2139\u213c-\u213f\u2145-\u2149\u214e\u2183\u2184\u2c00-\u2c7b\u2c7e-\u2ce4\u2ceb-\u2cee"
    "\u2cf2\u2cf3\ua640-\ua66d\ua680-\ua69b\ua722-\ua76f\ua771-\ua787\ua78b-\ua78e\uab70-\uabbf\ufb00-\ufb06"
    "\ufb13-\ufb17\uff21-\uff3a\uff41-\uff5a\U00010400-\U0001044f\U000104b0-\U000104d3\U000104d8-\U000104fb"
    "\U00010c80-\U00010cb2\U00010cc0-\U00010cf2\U000118a0-\U000118df\U0001e900-\U0001e943]+")
PRE = {
    "gpt-2": [GPT2],
    "mpt": [GPT2],
    "default": [r"[\p{P}\$\+<=>\^~\|]+", GPT2, r"\p{N}+", "[0-9][0-9][0-9]"],
    "deepseek-llm": ["[\r\n]", DEEPSEEK_LETTERS, "\\s?[!-/:-~\uff01-\uff0f\uff1a-\uff5e\u2018-\u201f\u3000-\u3002]+",
                     r"\s+$", CJK, r"\p{N}+"],
    "deepseek-coder": ["[\r\n]", r"\s?\p{L}+", r"\s?\p{P}+", CJK, r"\p{N}"],
    "falcon": [r"[\p{P}\$\+<=>\^~\|`]+", GPT2, "[0-9][0-9][0-9]"],
    "starcoder": [r"\p{N}", GPT2],
    "refact": [r"\p{N}", GPT2],
}


def read_gguf(path):
    fields = gguf.GGUFReader(path).fields

    def strings(key):
        field = fields[key]
        return [bytes(field.parts[i]).decode("utf-8") for i in field.data]

    def ints(key):
        field = fields[key]
        return [int(field.parts[i][0]) for i in field.data]

    def floats(key):
        field = fields[key]
        return [float(field.parts[i][0]) for i in field.data]

    pre = bytes(fields["tokenizer.ggml.pre"].parts[-1]).decode() if "tokenizer.ggml.pre" in fields else "default"
    merges = strings("tokenizer.ggml.merges") if "tokenizer.ggml.merges" in fields else []
    scores = floats("tokenizer.ggml.scores") if "tokenizer.ggml.scores" in fields else []
    return strings("tokenizer.ggml.tokens"), ints("tokenizer.ggml.token_type"), scores, merges, pre


def byte_level_from_gguf(name):
    tokens, types, _, merges, pre = read_gguf(os.path.join(VOCAB, f"ggml-vocab-{name}.gguf"))
    vocab = {token: id for id, token in reversed(list(enumerate(tokens)))}
    pairs = [tuple(m.split(" ", 1)) for m in merges]
    tokenizer = Tokenizer(models.BPE(vocab, pairs))
    split = [pre_tokenizers.Split(Regex(r), behavior="isolated") for r in PRE[pre]]
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(split + [pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tokenizer.add_special_tokens([AddedToken(t, special=True, normalized=False) for t, k in zip(tokens, types) if k == 3])
    tokenizer.add_tokens([AddedToken(t, special=False, normalized=False) for t, k in zip(tokens, types) if k == 4])
    return tokenizer, pre


def sentencepiece_model(pieces, normalizer_name="identity"):
    """A SentencePiece BPE model with Llama 2's settings over (piece, score, type) triples."""
    model = sp_model.ModelProto()
    for piece, score, kind in pieces:
        entry = model.pieces.add()
        entry.piece, entry.score, entry.type = piece, score, kind
    model.trainer_spec.model_type = sp_model.TrainerSpec.BPE
    model.trainer_spec.vocab_size = len(pieces)
    model.trainer_spec.byte_fallback = True
    model.trainer_spec.unk_id, model.trainer_spec.bos_id, model.trainer_spec.eos_id, model.trainer_spec.pad_id = 0, 1, 2, -1
    model.normalizer_spec.name = normalizer_name
    model.normalizer_spec.add_dummy_prefix = True
    model.normalizer_spec.remove_extra_whitespaces = False
    model.normalizer_spec.escape_whitespaces = True
    return spm.SentencePieceProcessor(model_proto=model.SerializeToString())


def llama2_sentencepiece():
    tokens, types, scores, _, _ = read_gguf(os.path.join(VOCAB, "ggml-vocab-llama-spm.gguf"))
    return sentencepiece_model(list(zip(tokens, scores, types)))


def tok512_sentencepiece():
    model = sp_model.ModelProto()
    with open(os.path.join(SHARED, "models/tok512.model"), "rb") as f:
        model.ParseFromString(f.read())
    model.normalizer_spec.remove_extra_whitespaces = False
    return spm.SentencePieceProcessor(model_proto=model.SerializeToString())


def unicode_classes():
    """(scalar, class bits) for every character of the corpus and every 257th code point:
    bit 0 \\p{L}, 1 \\p{N}, 2 \\p{P}, 3 \\p{S}, 4 \\p{M}, 5 \\s (infer's CharacterClass)."""
    patterns = [regex.compile(p) for p in (r"\p{L}", r"\p{N}", r"\p{P}", r"\p{S}", r"\p{M}", r"\s")]
    scalars = {ord(c) for text in CORPUS for c in text}
    scalars |= {c for c in range(0, 0x110000, 257) if not 0xD800 <= c < 0xE000}
    return [[c, sum(1 << i for i, p in enumerate(patterns) if p.fullmatch(chr(c)))] for c in sorted(scalars)]


def main():
    entries = []

    def add(name, file, reference, parse_special, encode):
        entries.append({"name": name, "file": file, "reference": reference, "parseSpecial": parse_special,
                        "ids": [encode(text) for text in CORPUS]})

    hf = f"tokenizers {tokenizers.__version__}"
    for name in ("llama3", "qwen3"):
        tokenizer = Tokenizer.from_file(os.path.join(SHARED, f"tokenizers/{name}/tokenizer.json"))
        add(name, f"tokenizers/{name}", f"{hf}, the tokenizer.json as shipped", True,
            lambda t, tok=tokenizer: tok.encode(t, add_special_tokens=False).ids)
    for name in ("gpt-2", "mpt", "gpt-neox", "deepseek-llm", "deepseek-coder", "falcon", "starcoder", "refact"):
        tokenizer, pre = byte_level_from_gguf(name)
        add(name, f"vocab/ggml-vocab-{name}.gguf", f"{hf}, the GGUF's vocabulary with llama.cpp's '{pre}' regexes", True,
            lambda t, tok=tokenizer: tok.encode(t, add_special_tokens=False).ids)
    sp = f"sentencepiece {spm.__version__}"
    llama2 = llama2_sentencepiece()
    for file in ("vocab/ggml-vocab-llama-spm.gguf", "models/tokenizer.bin"):
        add("llama2", file, f"{sp}, Llama 2's vocabulary and settings", False, lambda t: llama2.encode(t))
    tok512 = tok512_sentencepiece()
    add("tok512", "models/tok512.bin", f"{sp}, tok512.model without whitespace collapsing", False, lambda t: tok512.encode(t))

    golden = {
        "generatedBy": "Tests/Fixtures/tokenizers/make_golden.py",
        "corpus": CORPUS,
        "tokenizers": entries,
        "unicodeClasses": {"reference": f"regex {regex.__version__}", "scalarsAndBits": unicode_classes()},
    }
    with open(os.path.join(HERE, "golden.json"), "w", encoding="utf-8") as f:
        f.write(dump(golden) + "\n")


def dump(value, indent=""):
    """JSON with one line per corpus string, per id list and per 16 class pairs, so that a
    regenerated file diffs line by line."""
    inner = indent + "  "
    if isinstance(value, dict):
        items = [f"{inner}{json.dumps(k)}: {dump(v, inner)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if isinstance(value, list) and value and isinstance(value[0], (dict, list, str)):
        if isinstance(value[0], list) and len(value[0]) == 2 and len(value) > 1000:  # class pairs
            rows = [json.dumps(value[i:i + 16], separators=(",", ":"))[1:-1] for i in range(0, len(value), 16)]
        else:
            rows = [dump(v, inner) for v in value]
        return "[\n" + ",\n".join(inner + row for row in rows) + "\n" + indent + "]"
    return json.dumps(value, ensure_ascii=True, separators=(",", ":"))


main()
