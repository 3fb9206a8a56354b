#!/usr/bin/env python3
"""Writes the seed corpora of infer's fuzz harnesses into OUT/<harness>/ (make fuzz puts them
in .build-fuzz/seeds): small files generated here, deterministic, that reach each loader's
paths (every GGUF weight type, every tokenizer kind, llama2.c versions 0-2, tokenizer.json
pipelines, templates, request bodies), and links to the real files of the shared test data
and the repository's fixtures that are small enough to mutate quickly (read in place, never
copied). Needs only the standard library.

  python3 Tests/Fuzz/make_seeds.py OUT [--shared DIR]
"""
import argparse
import json
import os
import random
import struct

REPOSITORY = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# ---------------------------------------------------------------- GGUF writer

GGUF_UINT32, GGUF_INT32, GGUF_FLOAT32, GGUF_BOOL, GGUF_STRING, GGUF_ARRAY = 4, 5, 6, 7, 8, 9

# ggml type: (id, elements per block, bytes per block, offsets of f16 scales in a block)
TYPES = {
    "F32": (0, 1, 4, []), "F16": (1, 1, 2, []), "Q4_0": (2, 32, 18, [0]), "Q4_1": (3, 32, 20, [0, 2]),
    "Q5_0": (6, 32, 22, [0]), "Q5_1": (7, 32, 24, [0, 2]), "Q8_0": (8, 32, 34, [0]),
    "Q2_K": (10, 256, 84, [80, 82]), "Q3_K": (11, 256, 110, [108]), "Q4_K": (12, 256, 144, [0, 2]),
    "Q5_K": (13, 256, 176, [0, 2]), "Q6_K": (14, 256, 210, [208]), "BF16": (30, 1, 2, []),
}


def gguf_string(text):
    data = text.encode() if isinstance(text, str) else text
    return struct.pack("<Q", len(data)) + data


def gguf_value(value):
    """(type, bytes) of a metadata value: ints are int32 (uint32 when marked), floats float32."""
    if isinstance(value, bool):
        return GGUF_BOOL, struct.pack("<B", value)
    if isinstance(value, tuple) and value[0] == "u32":
        return GGUF_UINT32, struct.pack("<I", value[1])
    if isinstance(value, int):
        return GGUF_INT32, struct.pack("<i", value)
    if isinstance(value, float):
        return GGUF_FLOAT32, struct.pack("<f", value)
    if isinstance(value, (str, bytes)):
        return GGUF_STRING, gguf_string(value)
    if isinstance(value, list):
        element_type = gguf_value(value[0])[0] if value else GGUF_INT32
        body = b"".join(gguf_value(v)[1] for v in value)
        return GGUF_ARRAY, struct.pack("<IQ", element_type, len(value)) + body
    raise TypeError(value)


def tensor_bytes(type_name, shape, rng):
    """Plausible data: random quants with small finite scales, small random floats."""
    _, block_elements, block_bytes, scales = TYPES[type_name]
    count = 1
    for n in shape:
        count *= n
    if type_name == "F32":
        return struct.pack(f"<{count}f", *(rng.uniform(-0.5, 0.5) for _ in range(count)))
    if type_name in ("F16", "BF16"):
        # 0x3000-0x37ff are f16 0.125-0.5; the same bits as bf16 are tiny but finite.
        return struct.pack(f"<{count}H", *(rng.randrange(0x3000, 0x3800) | rng.choice([0, 0x8000]) for _ in range(count)))
    blocks = bytearray()
    for _ in range(count // block_elements):
        block = bytearray(rng.getrandbits(8) for _ in range(block_bytes))
        for offset in scales:
            block[offset:offset + 2] = struct.pack("<H", rng.randrange(0x2000, 0x2c00))
        blocks += block
    return bytes(blocks)


def gguf_file(metadata, tensors, version=3):
    """metadata: [(key, value)]; tensors: [(name, shape, type name, data)], placed at the
    alignment the metadata states (general.alignment, else 32)."""
    alignment = next((v[1] if isinstance(v, tuple) else v for k, v in metadata if k == "general.alignment"), 32)
    out = bytearray(b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(metadata)))
    for key, value in metadata:
        value_type, data = gguf_value(value)
        out += gguf_string(key) + struct.pack("<I", value_type) + data
    offset = 0
    placed = []
    for name, shape, type_name, data in tensors:
        offset = (offset + alignment - 1) // alignment * alignment
        out += gguf_string(name) + struct.pack("<I", len(shape)) + b"".join(struct.pack("<Q", n) for n in shape)
        out += struct.pack("<IQ", TYPES[type_name][0], offset)
        placed.append((offset, data))
        offset += len(data)
    out += b"\0" * ((-len(out)) % alignment)
    start = len(out)
    for offset, data in placed:
        out += b"\0" * (start + offset - len(out)) + data
    return bytes(out)


# ------------------------------------------------------------- vocabularies

SPM_WORDS = ["\u2581", "\u2581the", "\u2581a", "\u2581to", "\u2581and", "e", "t", "o", "a", "n", "s", "h", "r",
             "\u2581t", "th", "he", "in", "er", "\u2581Hello", "\u2581world", "!", ",", ".", "'", "1", "2"]
SPM_CONTROL = ["<|im_start|>", "<|im_end|>"]
CHATML = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
          "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


def spm_vocabulary():
    """(metadata, vocabulary size): SentencePiece with <unk>/<s>/</s>, some byte tokens, words, chat tokens."""
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in (0x0A, 0x20, 0x21, 0x2E, 0xC3, 0xA9, 0xE2, 0x80)]
    tokens += SPM_WORDS + SPM_CONTROL
    types = [2, 3, 3] + [6] * 8 + [1] * len(SPM_WORDS) + [3, 3]
    scores = [0.0] * 11 + [-float(i) for i in range(len(SPM_WORDS))] + [0.0, 0.0]
    metadata = [
        ("tokenizer.ggml.model", "llama"), ("tokenizer.ggml.tokens", tokens), ("tokenizer.ggml.scores", scores),
        ("tokenizer.ggml.token_type", types), ("tokenizer.ggml.bos_token_id", ("u32", 1)),
        ("tokenizer.ggml.eos_token_id", ("u32", 2)), ("tokenizer.ggml.unknown_token_id", ("u32", 0)),
        ("tokenizer.ggml.add_bos_token", True), ("tokenizer.ggml.add_space_prefix", True),
        ("tokenizer.chat_template", CHATML),
    ]
    return metadata, len(tokens)


def byte_level_alphabet():
    """GPT-2's byte-to-character mapping, in byte order."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    chars, extra = {}, 0
    for b in range(256):
        if b in printable:
            chars[b] = chr(b)
        else:
            chars[b] = chr(256 + extra)
            extra += 1
    return [chars[b] for b in range(256)]


def bpe_vocabulary(pre="llama-bpe"):
    tokens = byte_level_alphabet()
    merges = ["\u0120 t", "h e", "\u0120t he", "i n", "e r", "\u0120 a", "o n", "\u0120 w", "o r", "\u0120w or"]
    tokens += ["\u0120t", "he", "\u0120the", "in", "er", "\u0120a", "on", "\u0120w", "or", "\u0120wor"]
    tokens += ["<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>"]
    types = [1] * (len(tokens) - 3) + [3, 3, 3]
    metadata = [
        ("tokenizer.ggml.model", "gpt2"), ("tokenizer.ggml.pre", pre), ("tokenizer.ggml.tokens", tokens),
        ("tokenizer.ggml.token_type", types), ("tokenizer.ggml.merges", merges),
        ("tokenizer.ggml.bos_token_id", ("u32", len(tokens) - 3)), ("tokenizer.ggml.eos_token_id", ("u32", len(tokens) - 1)),
        ("tokenizer.chat_template",
         "{{ bos_token }}{% for m in messages %}<|start_header_id|>{{ m.role }}<|end_header_id|>\n\n"
         "{{ m.content | trim }}<|eot_id|>{% endfor %}"),
    ]
    return metadata, len(tokens)


def wordpiece_vocabulary():
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world", "the", "##s", "##ing", "play", ",", "!"]
    types = [3, 2, 3, 3, 3] + [1] * 8
    return [
        ("general.architecture", "bert"), ("tokenizer.ggml.model", "bert"), ("tokenizer.ggml.tokens", tokens),
        ("tokenizer.ggml.token_type", types), ("tokenizer.ggml.unknown_token_id", ("u32", 1)),
        ("tokenizer.ggml.cls_token_id", ("u32", 2)), ("tokenizer.ggml.seperator_token_id", ("u32", 3)),
        ("tokenizer.ggml.padding_token_id", ("u32", 0)),
    ]


# ------------------------------------------------------------------- models

def llama_model(rng, vocabulary, vocab_size, dim, hidden, layers, heads, kv_heads, types, tied=False, head_dim=None,
                extra=()):
    """A Llama GGUF: `types` maps each tensor kind ("embd", "q", "k", "v", "o", "gate", "up",
    "down", "output", "norm") to its weight type; `head_dim` other than dim / heads is written
    as llama.attention.key_length."""
    head_dim = head_dim or dim // heads
    metadata = [
        ("general.architecture", "llama"), ("general.name", "fuzz seed"),
        ("llama.context_length", 64), ("llama.embedding_length", dim), ("llama.block_count", layers),
        ("llama.feed_forward_length", hidden), ("llama.attention.head_count", heads),
        ("llama.attention.head_count_kv", kv_heads), ("llama.attention.layer_norm_rms_epsilon", 1e-5),
        ("llama.rope.freq_base", 10000.0), ("llama.rope.dimension_count", head_dim),
    ] + ([("llama.attention.key_length", head_dim)] if head_dim != dim // heads else []) + list(extra) + vocabulary

    def tensor(name, shape, kind):
        type_name = types.get(kind, types.get("default", "F32"))
        return (name, shape, type_name, tensor_bytes(type_name, shape, rng))

    tensors = [tensor("token_embd.weight", [dim, vocab_size], "embd"), tensor("output_norm.weight", [dim], "norm")]
    if not tied:
        tensors.append(tensor("output.weight", [dim, vocab_size], "output"))
    for layer in range(layers):
        p = f"blk.{layer}."
        tensors += [
            tensor(p + "attn_norm.weight", [dim], "norm"),
            tensor(p + "attn_q.weight", [dim, heads * head_dim], "q"),
            tensor(p + "attn_k.weight", [dim, kv_heads * head_dim], "k"),
            tensor(p + "attn_v.weight", [dim, kv_heads * head_dim], "v"),
            tensor(p + "attn_output.weight", [heads * head_dim, dim], "o"),
            tensor(p + "ffn_norm.weight", [dim], "norm"),
            tensor(p + "ffn_gate.weight", [dim, hidden], "gate"),
            tensor(p + "ffn_up.weight", [dim, hidden], "up"),
            tensor(p + "ffn_down.weight", [hidden, dim], "down"),
        ]
    return gguf_file(metadata, tensors)


def gguf_seeds(out, rng):
    """Models of a few KiB, so that mutations reach the metadata and tensor descriptions as
    often as the weights, and a load is quick."""
    spm, spm_size = spm_vocabulary()
    bpe, bpe_size = bpe_vocabulary()
    write(out, "llama-spm-f32-tiny.gguf", llama_model(rng, spm, spm_size, 8, 16, 2, 2, 1, {"default": "F32"}))
    # Block types need rows of 32: dim 32, 8 rows per projection (8 % 8: interleaved copies).
    for type_name in ["F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1"]:
        types = {"default": type_name, "norm": "F32", "o": "F32", "down": "F32"}
        write(out, f"llama-spm-{type_name.lower()}.gguf",
              llama_model(rng, spm, spm_size, 32, 8, 1, 1, 1, types, head_dim=8, tied=type_name == "Q4_0"))
    # K-quants need rows of 256: dim 256, 8-row projections of short heads; O and down, whose
    # rows are 8 long, in F32.
    k_types = {"embd": "Q6_K", "q": "Q4_K", "k": "Q4_K", "v": "Q5_K", "gate": "Q2_K", "up": "Q3_K",
               "output": "Q4_K", "norm": "F32", "o": "F32", "down": "F32"}
    write(out, "llama-spm-k-quants.gguf", llama_model(rng, spm, spm_size, 256, 8, 1, 1, 1, k_types, head_dim=8))
    q8 = {"default": "Q8_0", "norm": "F32", "o": "F32", "down": "F32"}
    write(out, "llama-bpe-q8_0.gguf", llama_model(rng, bpe, bpe_size, 32, 8, 1, 1, 1, q8, head_dim=8,
                                                  extra=[("general.alignment", ("u32", 64)), ("general.file_type", 7)]))
    write(out, "bert-vocab.gguf", gguf_file(wordpiece_vocabulary(), []))
    write(out, "bpe-vocab-qwen2.gguf", gguf_file([("general.architecture", "qwen2")] + bpe_vocabulary("qwen2")[0], []))
    write(out, "template-only.gguf", gguf_file([
        ("tokenizer.chat_template", CHATML), ("tokenizer.chat_template.tool_use", "{{ tools | tojson }}")], []))
    link(out, os.path.join(REPOSITORY, "Tests/InferKitTests/Fixtures/qgemm-weights.gguf"))


# -------------------------------------------------------- llama2.c model.bin

# "ak42" as llama2.c's export.py writes it: a little-endian uint32.
LLAMA2C_MAGIC = struct.pack("<I", 0x616B3432)


def llama2c_models(out, rng):
    dim, hidden, layers, heads, kv_heads, vocab, seq = 16, 32, 2, 2, 1, 32, 8
    kv_dim = dim // heads * kv_heads
    matrices = [vocab * dim] + [dim * dim] * layers + [kv_dim * dim] * (2 * layers) + [dim * dim] * layers \
        + [hidden * dim] * layers + [dim * hidden] * layers + [hidden * dim] * layers
    norms = 2 * layers * dim + dim

    def floats(n):
        return struct.pack(f"<{n}f", *(rng.uniform(-0.5, 0.5) for _ in range(n)))

    for shared in (True, False):
        header = struct.pack("<7i", dim, hidden, layers, heads, kv_heads, vocab if shared else -vocab, seq)
        weights = sum(matrices) + norms + seq * (dim // heads) + (0 if shared else vocab * dim)
        write(out, f"v0-{'shared' if shared else 'separate'}.bin", header + floats(weights))
    header = LLAMA2C_MAGIC + struct.pack("<i7iB", 1, dim, hidden, layers, heads, kv_heads, vocab, seq, 1)
    write(out, "v1.bin", header.ljust(256, b"\0") + floats(norms + sum(matrices)))
    group = 16
    header = LLAMA2C_MAGIC + struct.pack("<i7iBi", 2, dim, hidden, layers, heads, kv_heads, vocab, seq, 0, group)
    body = floats(norms)
    for count in matrices + [vocab * dim]:  # the separate classifier last
        body += bytes(rng.getrandbits(8) for _ in range(count)) + floats(count // group)
    write(out, "v2-q8.bin", header.ljust(256, b"\0") + body)


def llama2c_tokenizers(out, shared):
    pieces = [b"<unk>", b"\n<s>\n", b"\n</s>\n"] + [bytes([b]) for b in range(32, 127)] + [b" the", b" a", b"he", b"\xc3\xa9"]
    data = struct.pack("<i", max(len(p) for p in pieces))
    for index, piece in enumerate(pieces):
        data += struct.pack("<fi", -float(index), len(piece)) + piece
    write(out, "tiny.bin", data)
    for name in ("models/tok512.bin", "models/aidreams260K_tok512.bin"):
        link(out, os.path.join(shared, name))


# --------------------------------------------------------- tokenizer.json

def small_tokenizer_json(path, keep):
    """The real tokenizer.json at `path` with only its first `keep` vocabulary entries (and the
    merges among them); its normalizer, pre-tokenizer, post-processor and added tokens kept."""
    with open(path, encoding="utf-8") as f:
        root = json.load(f)
    model = root["model"]
    vocab = {k: v for k, v in model["vocab"].items() if v < keep}
    merges = []
    for merge in model["merges"]:
        left, right = merge.split(" ", 1) if isinstance(merge, str) else merge
        if left in vocab and right in vocab and left + right in vocab:
            merges.append(merge)
    model["vocab"], model["merges"] = vocab, merges
    added = root.get("added_tokens", [])[:8]
    post = json.dumps(root.get("post_processor"))
    for index, token in enumerate(added):
        post = post.replace(f"\"ids\": [{token['id']}]", f"\"ids\": [{keep + index}]")
        token["id"] = keep + index
    root["added_tokens"] = added
    root["post_processor"] = json.loads(post)
    return root


def tokenizer_json_seeds(out, shared):
    alphabet = byte_level_alphabet()
    vocab = {c: i for i, c in enumerate(alphabet)}
    for piece in ["he", "ll", "hell", "\u0120w", "or", "\u0120wor"]:
        vocab[piece] = len(vocab)
    base = {
        "version": "1.0",
        "added_tokens": [
            {"id": 262, "content": "<|bos|>", "special": True, "lstrip": False, "rstrip": False, "single_word": False},
            {"id": 263, "content": "<|end|>", "special": True, "rstrip": True},
            {"id": 264, "content": "<tool>", "special": False, "single_word": True, "lstrip": True},
        ],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "post_processor": {"type": "TemplateProcessing",
                           "single": [{"SpecialToken": {"id": "<|bos|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                           "pair": [], "special_tokens": {"<|bos|>": {"id": "<|bos|>", "ids": [262], "tokens": ["<|bos|>"]}}},
        "decoder": {"type": "ByteLevel"},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "ignore_merges": False, "vocab": vocab,
                  "merges": ["h e", "l l", "he ll", "\u0120 w", "o r", "\u0120w or"]},
    }
    config = {"bos_token": "<|bos|>", "eos_token": {"content": "<|end|>"}, "add_bos_token": True, "chat_template": CHATML}
    variants = {
        "byte-level": (base, None),
        "byte-level-config": (base, config),
        "split-digits-nfc": (dict(base, normalizer={"type": "Sequence", "normalizers": [{"type": "NFC"}, {"type": "Lowercase"}]},
                                  pre_tokenizer={"type": "Sequence", "pretokenizers": [
                                      {"type": "Split", "pattern": {"Regex": "\\p{N}{1,3}"}, "behavior": "Isolated", "invert": False},
                                      {"type": "Digits", "individual_digits": True},
                                      {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}]}),
                             {"chat_template": [{"name": "default", "template": CHATML}, {"name": "tool_use", "template": "{{ tools }}"}]}),
        "roberta": (dict(base, post_processor={"type": "RobertaProcessing", "sep": ["<|end|>", 263], "cls": ["<|bos|>", 262],
                                               "trim_offsets": True, "add_prefix_space": False}), None),
        "bert-post": (dict(base, post_processor={"type": "BertProcessing", "sep": ["<|end|>", 263], "cls": ["<|bos|>", 262]}), None),
        "pairs-merges": (dict(base, model=dict(base["model"], merges=[["h", "e"], ["l", "l"], ["he", "ll"]], ignore_merges=True)), None),
    }
    for name, (tokenizer, tokenizer_config) in variants.items():
        data = json.dumps(tokenizer, ensure_ascii=False).encode()
        if tokenizer_config is not None:
            data += b"\xff" + json.dumps(tokenizer_config).encode()
        write(out, name + ".json", data)
    for name in ("llama3", "qwen3"):
        directory = os.path.join(shared, "tokenizers", name)
        if not os.path.isdir(directory):
            continue
        data = json.dumps(small_tokenizer_json(os.path.join(directory, "tokenizer.json"), 400), ensure_ascii=False).encode()
        with open(os.path.join(directory, "tokenizer_config.json"), "rb") as f:
            config_data = f.read()
        write(out, f"{name}-small.json", data)
        write(out, f"{name}-small-config.json", data + b"\xff" + config_data)


# ------------------------------------------------------------------- texts

def test_strings(shared):
    """llama.cpp's tokenizer test strings (shared/vocab/*.inp)."""
    strings = []
    path = os.path.join(shared, "vocab", "ggml-vocab-llama-bpe.gguf.inp")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            strings = [s.strip("\n") for s in f.read().split("__ggml_vocab_test__")]
    return [s for s in strings if s] + ["<|im_start|>user\nhi<|im_end|>", "<s>[INST] x [/INST]", "\u2581\u2581"]


def tokenize_seeds(out, shared):
    strings = test_strings(shared)
    # First byte: the vocabulary (the harness takes it modulo its count); second: the options.
    for vocabulary in range(12):
        for index, text in enumerate(strings[vocabulary::6]):
            write(out, f"v{vocabulary}-{index}.txt", bytes([vocabulary, (index * 3) % 16]) + text.encode())


def jinja_seeds(out, shared):
    directory = os.path.join(shared, "templates")
    if os.path.isdir(directory):
        for name in sorted(os.listdir(directory)):
            if name.endswith(".jinja"):
                link(out, os.path.join(directory, name))
    snippets = {
        "chatml": CHATML,
        "macros": "{% macro m(x, n=2) %}{{ x * n }}{% if n > 0 %}{{ m(x, n - 1) }}{% endif %}{% endmacro %}{{ m('ab') }}",
        "namespace": "{% set ns = namespace(found=false) %}{% for m in messages %}{% if m.role == 'system' %}"
                     "{% set ns.found = true %}{% endif %}{% endfor %}{{ ns.found }}",
        "filters": "{{ messages | map(attribute='role') | join(', ') | upper | replace('U', 'u') | trim | length }}"
                   "{{ tools | tojson(indent=2) }}{{ '%5.2f|%s' % (3.14159, 'x') }}{{ range(3) | list | reverse | first }}",
        "loops": "{% for m in messages if m.content %}{{ loop.index }}/{{ loop.length }}{% if loop.last %}!{% endif %}"
                 "{% else %}none{% endfor %}{% for a, b in [(1, 2), (3, 4)] %}{{ a + b }}{% endfor %}",
        "strings": "{{ 'a,b,c'.split(',')[1:] }}{{ 'Hello'[::-1] }}{{ 'x'.startswith('x') and not 'y' in 'xyz' }}"
                   "{{ '{:>5}'.format(3) if false else 'ok' }}{{ strftime_now('%Y-%m-%d') }}",
        "raise": "{% if messages[0].role != 'user' %}{{ raise_exception('first message must be the user') }}{% endif %}",
        "whitespace": "{%- for m in messages -%}\n  {{- m.content -}}\n{%+ endfor %}{# comment #}{% raw %}{{ x }}{% endraw %}",
        "dicts": "{% set d = {'a': 1, 'b': [1, 2, {'c': none}]} %}{{ d.items() | list }}{{ d.get('z', 5) }}{{ d | dictsort }}",
        "numbers": "{{ '3' | int }}{{ ' 0x1F ' | int(base=16) }}{{ 'x' | int(7) }}{{ '1_000.5e2' | float }}{{ '-inf' | float }}"
                   "{{ 2.675 | round(2) }}{{ -1234 | round(-2) }}{{ 3.7 | round(method='floor') }}{{ -5 | abs }}"
                   "{{ [1.5, 2] | sum }}{{ (10 // 3) ** 2 % 7 }}",
    }
    for name, source in snippets.items():
        write(out, name + ".jinja", source.encode())


def json_seeds(out, shared):
    documents = [
        '{"a": [1, -2.5e-3, "x\\u00e9\\ud83d\\ude00", null, true, false], "b": {"c": {}}, "d": []}',
        '[1e400, NaN, -Infinity, Infinity, 0, -0, 12345678901234567890, 0.1]',
        '"\\"\\\\\\/\\b\\f\\n\\r\\t\\u0000"', '{"k": 1, "k": 2}', '  \n\t{}  ', "[[[[[[[[[[]]]]]]]]]]",
    ]
    for index, document in enumerate(documents):
        write(out, f"doc{index}.json", document.encode())
    for path in (os.path.join(shared, "tokenizers", "llama3", "tokenizer_config.json"),
                 os.path.join(REPOSITORY, "Tests/InferKitTests/Fixtures/perplexity-story.json")):
        link(out, path)


def request_bodies():
    chat = {"model": "horatio-q8_0", "messages": [{"role": "system", "content": "Be brief."},
                                                  {"role": "user", "content": "What news?"}],
            "max_tokens": 16, "temperature": 0.7, "top_p": 0.9, "top_k": 40, "min_p": 0.05, "seed": 42,
            "stop": ["\n\n", "HAMLET"], "presence_penalty": 0.5, "frequency_penalty": -0.5, "repeat_penalty": 1.1,
            "stream": True, "stream_options": {"include_usage": True}, "n": 1}
    parts = {"messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}, {"type": "text", "text": "there"}]},
                          {"role": "assistant", "content": None, "tool_calls": [{"id": "1", "type": "function",
                                                                                 "function": {"name": "f", "arguments": "{}"}}]},
                          {"role": "tool", "content": "42", "tool_call_id": "1"}],
             "max_completion_tokens": 8, "stop": "x"}
    completion = {"prompt": "Once upon a time", "max_tokens": 16, "temperature": 0, "stream": False}
    tokens = {"prompt": [[1, 200, 300, 2047]], "max_tokens": 4, "seed": -1}
    # (endpoint, body): endpoint 0 is chat with the model's own template, 1 chat with chatml,
    # 10 a completion (the harness takes the first byte modulo twice its template count).
    return [(0, chat), (1, parts), (2, {"messages": [{"role": "user", "content": "hi"}]}), (10, completion), (11, tokens),
            (12, {"prompt": ["one prompt"]}), (0, {"messages": [], "temperature": "hot"}), (10, {"prompt": ""})]


def request_seeds(out):
    for index, (endpoint, body) in enumerate(request_bodies()):
        write(out, f"body{index}.json", bytes([endpoint]) + json.dumps(body).encode())
    write(out, "malformed.json", bytes([0]) + b'{"messages": [')


def test_grammars():
    """The GBNF grammars of the repository's grammar tests: multi-line raw strings, and one-line
    raw strings that hold a root rule."""
    import glob
    import re
    grammars = []
    for path in sorted(glob.glob(os.path.join(REPOSITORY, "Tests", "InferKitTests", "Grammar*.swift"))):
        with open(path) as f:
            source = f.read()
        for match in re.finditer(r'#"""\n(.*?)\n([ \t]*)"""#', source, re.S):
            indent = match.group(2)
            lines = [line[len(indent):] if line.startswith(indent) else line for line in match.group(1).split("\n")]
            grammars.append("\n".join(lines) + "\n")
        for match in re.finditer(r'#"((?:[^"\n]|"(?!#))*?root ::=(?:[^"\n]|"(?!#))*)"#', source):
            grammars.append(match.group(1))
    return grammars


def grammar_seeds(out):
    for index, grammar in enumerate(test_grammars()):
        write(out, f"test{index}.gbnf", grammar.encode())
    snippets = {
        # Token terminals by text and by id, negated; a reasoning block.
        "tokens": 'root ::= <s>? think? answer </s>?\nthink ::= "<think>" (!<[2]>)* "</think>" "\\n"\n'
                  'answer ::= [A-Z] [a-z ]{2,30} "."\n',
        # An ambiguous grammar: parses multiply per byte (the automaton's limit on them).
        "ambiguous": 'root ::= x* x* x* "!"\nx ::= [a-z] | [a-z] [a-z] | "ab"\n',
        # Nested repetitions near the parser's limit.
        "repetitions": 'root ::= (("a" | "b"){2,40} " "){1,50} [0-9]{0,2000}\n',
        # Recursion through groups, right-recursive lists, every escape.
        "recursion": 'root ::= list\nlist ::= "[" (item ("," item)*)? "]"\nitem ::= list | [^\\[\\],\\x00-\\x1f]+\n',
        "escapes": 'root ::= "\\x00\\xff\\u0000\\uFFFF\\U0010FFFF\\t\\r\\n\\\\\\"" [\\x00-\\U0010FFFF] .\r\n',
        "empty-alternatives": 'root ::= | a | (| "x")\na ::= ""\n',
        "crlf": 'root ::= a b\r\na ::= "x"\r\nb ::= "y" |\r\n  "z"\r\n',
        # Errors: left recursion, an undefined rule, no root, a count above the limit.
        "left-recursive": 'root ::= root "a" | "b"\n',
        "undefined": 'root ::= missing\n',
        "no-root": 'start ::= "x"\n',
        "too-many": 'root ::= "a"{2001}\n',
    }
    for name, source in snippets.items():
        write(out, name + ".gbnf", source.encode())


def json_schema_seeds(out):
    directory = os.path.join(REPOSITORY, "Tests", "Fixtures", "json-schemas")
    if os.path.isdir(directory):
        for name in sorted(os.listdir(directory)):
            if name.endswith(".json"):
                link(out, os.path.join(directory, name))
    schemas = {
        "tool-parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "The city."},
                                                             "unit": {"enum": ["C", "F"]}}, "required": ["city"]},
        "bounds": {"type": "object", "properties": {
            "i": {"type": "integer", "minimum": -12, "exclusiveMaximum": 1000},
            "n": {"type": "number", "exclusiveMinimum": 0.5, "maximum": 99.25},
            "a": {"type": "array", "items": {"type": "boolean"}, "minItems": 2, "maxItems": 2500},
            "s": {"type": "string", "minLength": 1, "maxLength": 3000, "pattern": "^[A-Z][a-z]*(-[a-z]+){0,3}$"}}},
        "recursive-ref": {"$ref": "#/$defs/node", "$defs": {"node": {"type": "object", "properties": {
            "children": {"type": "array", "items": {"$ref": "#/$defs/node"}}, "value": {"type": ["string", "null"]}}}}},
        "combinators": {"anyOf": [{"type": "string", "format": "date-time"}, {"allOf": [{"type": "object"},
                         {"properties": {"x": {"const": [1, {"a": None}]}}, "additionalProperties": False}]},
                        {"oneOf": [{"type": "integer"}, {"type": "string", "format": "uuid"}]}]},
        "tuple": {"type": "array", "prefixItems": [{"type": "string", "format": "email"}, {"format": "ipv4", "type": "string"}],
                  "items": False},
        "unsupported": {"type": "string", "format": "hostname", "not": {"const": "x"}},
        "self-ref": {"$ref": "#"},
    }
    for name, schema in schemas.items():
        write(out, name + ".json", json.dumps(schema).encode())


# ------------------------------------------------------------------ helpers

def write(directory, name, data):
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data)


def link(directory, path):
    """A symbolic link to a real file, read in place (skipped when the file is absent)."""
    if not os.path.exists(path):
        return
    target = os.path.join(directory, os.path.basename(path))
    if os.path.lexists(target):
        os.remove(target)
    os.symlink(os.path.abspath(path), target)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out")
    parser.add_argument("--shared", default=os.environ.get("INFER_SHARED") or os.path.join(os.path.dirname(REPOSITORY), "shared"))
    args = parser.parse_args()
    rng = random.Random(20)
    makers = {
        "fuzz-gguf": lambda d: gguf_seeds(d, rng),
        "fuzz-llama2c-model": lambda d: llama2c_models(d, rng),
        "fuzz-llama2c-tokenizer": lambda d: llama2c_tokenizers(d, args.shared),
        "fuzz-tokenizer-json": lambda d: tokenizer_json_seeds(d, args.shared),
        "fuzz-tokenize": lambda d: tokenize_seeds(d, args.shared),
        "fuzz-jinja": lambda d: jinja_seeds(d, args.shared),
        "fuzz-json": lambda d: json_seeds(d, args.shared),
        "fuzz-request": request_seeds,
        "fuzz-grammar": grammar_seeds,
        "fuzz-json-schema": json_schema_seeds,
    }
    for harness, make in makers.items():
        directory = os.path.join(args.out, harness)
        os.makedirs(directory, exist_ok=True)
        make(directory)
        print(f"{harness}: {len(os.listdir(directory))} seeds in {directory}")


if __name__ == "__main__":
    main()
