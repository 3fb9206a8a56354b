"""Writes the committed test fixtures for the default model (Tests/InferKitTests/Fixtures/):

- default-model-logits.json: for a few prompts, the token ids and the reference logits:
  the top 5 (id, logit) of every position and all logits of the last position, computed by
  model.py in float64 from the weights exactly as the GGUF stores them (dequantized with the
  gguf package). infer computes in float32, so its logits should agree to about 1e-5.
- default-model-tokenizer.json: texts and their SentencePiece ids (no BOS) and decoding,
  corpus speeches and edge cases, for checking infer's tokenizer against SentencePiece.
"""
import argparse
import json
import pathlib

import numpy as np
import sentencepiece as spm
import torch
from gguf import GGUFReader, quants

import chat_format
import corpus
import data
import export_gguf
from model import Config, Transformer

EDGE_CASES = [
    "", " ", "  ", "\n", "\n\n", "Hello", " Hello", "Hello ", "  two  spaces  ", "a\tb",
    "line one\nline two\n\nline four", "HORATIO:\n'Tis here.", "digits 1605 and 3.14159",
    "O Romeo, Romeo! wherefore art thou Romeo?", "Honorificabilitudinitatibus",
    "Café naïve — 🙂 日本語", "e\u0301 versus \u00e9", "👩‍👩‍👧 family", "\u0001\u007f control",
    "<s> not a special token </s>", "\u2581 the space marker itself", "ALL CAPS SHOUTING!!!",
]


def load_reference_model(path: pathlib.Path) -> Transformer:
    """model.py in float64 with the GGUF's weights, dequantized as stored."""
    reader = GGUFReader(str(path))

    def field(key):
        return reader.fields[key].contents()

    c = Config(vocab_size=len(reader.fields["tokenizer.ggml.tokens"].data), dim=field("llama.embedding_length"),
               hidden_dim=field("llama.feed_forward_length"), n_layers=field("llama.block_count"),
               n_heads=field("llama.attention.head_count"), n_kv_heads=field("llama.attention.head_count_kv"),
               context_length=field("llama.context_length"),
               rms_eps=field("llama.attention.layer_norm_rms_epsilon"), rope_theta=field("llama.rope.freq_base"))
    model = Transformer(c).double().eval()
    by_gguf_name = {v: k for k, v in export_gguf.tensor_names(c.n_layers).items()}
    state = {}
    for t in reader.tensors:
        values = quants.dequantize(t.data, t.tensor_type).astype(np.float64)
        state[by_gguf_name[t.name]] = torch.from_numpy(values.reshape(t.data.shape[:-1] + (-1,)) if values.ndim > 1 else values)
    model.load_state_dict(state)
    return model


def chat_ids(sp, messages: list) -> tuple:
    """The rendered template and its ids as llama.cpp tokenizes it: special tokens in the
    text become their ids, and each text part is encoded on its own."""
    text = chat_format.render(messages, add_generation_prompt=True)
    special = {"<s>": data.BOS, "</s>": data.EOS}
    ids = []
    for part in chat_format.parts(text):
        ids += [special[part]] if part in special else sp.encode(part)
    return text, ids


def prompts(sp, scenes: list) -> list:
    """(name, text, ids) of the prompts whose logits are checked."""
    chat_text, chat = chat_ids(sp, [{"role": "user", "content": "What news, my friend?"}])
    plain = "To be, or not to be: that is the question."
    unusual = "Café — naïve 🙂 1605\tend"
    # A real scene in the training format, long enough to exercise RoPE and attention far in.
    val = [s for i, s in enumerate(scenes) if corpus.is_validation(i)][0]
    long_ids = [data.BOS] + sp.encode(val.header) + [data.EOS]
    for speech in val.speeches:
        long_ids += sp.encode(chat_format.speech_part(speech.speaker, speech.text)) + [data.EOS]
    long_ids = long_ids[:200]
    return [("chat", chat_text, chat), ("plain", plain, [data.BOS] + sp.encode(plain)),
            ("unusual", unusual, [data.BOS] + sp.encode(unusual)), ("scene", sp.decode(long_ids), long_ids)]


@torch.no_grad()
def logits_fixture(model: Transformer, sp, scenes: list, model_name: str) -> dict:
    cases = []
    for name, text, ids in prompts(sp, scenes):
        logits = model(torch.tensor([ids]))[0].numpy()
        top = np.argsort(-logits, axis=1, kind="stable")[:, :5]
        case = {"name": name, "text": text, "tokens": ids,
                "top_ids": top.tolist(),
                "top_logits": np.round(np.take_along_axis(logits, top, axis=1), 5).tolist()}
        if name in ("chat", "scene"):
            case["last_logits"] = np.round(logits[-1], 5).tolist()
        cases.append(case)
    return {"model": model_name,
            "reference": "Models/train/model.py in float64 over the GGUF's weights as stored (make_fixtures.py)",
            "cases": cases}


def tokenizer_fixture(sp, scenes: list, speeches: int) -> dict:
    val = [s for i, s in enumerate(scenes) if corpus.is_validation(i)]
    texts = list(EDGE_CASES) + [s.header for s in val[:10]]
    texts += [chat_format.speech_part(sp_.speaker, sp_.text) for s in val for sp_ in s.speeches][:speeches]
    return {"tokenizer": "SentencePiece (sentencepiece package), encode without BOS",
            "cases": [{"text": t, "ids": sp.encode(t), "decoded": sp.decode(sp.encode(t))} for t in texts]}


def main():
    here = pathlib.Path(__file__).parent
    root = here.parent.parent
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--work", type=pathlib.Path, default=here / "work", help="work directory (tokenizer, corpus)")
    parser.add_argument("--model", type=pathlib.Path, default=root / "Models" / "horatio-q8_0.gguf", help="the GGUF")
    parser.add_argument("--out", type=pathlib.Path, default=root / "Tests" / "InferKitTests" / "Fixtures",
                        help="fixture directory")
    parser.add_argument("--speeches", type=int, default=100,
                        help="corpus speeches in the tokenizer fixture (a larger number makes a wider local check)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    sp = spm.SentencePieceProcessor(model_file=str(args.work / "tokenizer.model"))
    scenes = corpus.load_scenes(args.work)
    args.out.mkdir(parents=True, exist_ok=True)
    logits = logits_fixture(load_reference_model(args.model), sp, scenes, args.model.name)
    tokens = tokenizer_fixture(sp, scenes, args.speeches)
    for name, content in (("default-model-logits.json", logits), ("default-model-tokenizer.json", tokens)):
        path = args.out / name
        path.write_text(json.dumps(content, ensure_ascii=False, separators=(",", ":")) + "\n")
        print(f"{path}: {path.stat().st_size / 1e3:.0f} kB")


if __name__ == "__main__":
    main()
