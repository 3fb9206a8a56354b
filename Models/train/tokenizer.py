"""Trains the model's tokenizer: SentencePiece BPE over the corpus, with byte fallback so
any text encodes, in the conventions of Llama's tokenizer that GGUF `llama` vocabularies
(and so infer's SentencePieceTokenizer) follow: no normalization, a space prefix, digits
split, <unk> <s> </s> at ids 0-2 and the 256 <0xNN> byte tokens after them.

Training sentences are the parts of the chat format (scene openings, "NAME:\n" + speech),
newlines included, so words that begin a verse line get pieces of their own and "\n" is a
piece (also merged after punctuation: ",\n", ".\n").
"""
import argparse
import pathlib

import sentencepiece as spm

import chat_format
import corpus

VOCAB_SIZE = 2048


def sentences(scenes: list):
    for scene in scenes:
        yield scene.header
        for speech in scene.speeches:
            yield chat_format.speech_part(speech.speaker, speech.text)


def train(scenes: list, prefix: pathlib.Path, vocab_size: int = VOCAB_SIZE) -> pathlib.Path:
    """Writes `prefix`.model and .vocab; returns the .model path. Deterministic: every
    sentence is used (no sampling) and BPE training has no randomness."""
    prefix.parent.mkdir(parents=True, exist_ok=True)
    train_sentences = [s for i, scene in enumerate(scenes) if not corpus.is_validation(i)
                       for s in sentences([scene])]
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(train_sentences),
        model_prefix=str(prefix),
        model_type="bpe",
        vocab_size=vocab_size,
        byte_fallback=True,
        character_coverage=1.0,
        normalization_rule_name="identity",
        remove_extra_whitespaces=False,
        add_dummy_prefix=True,
        split_digits=True,
        allow_whitespace_only_pieces=True,
        input_sentence_size=0,
        unk_id=0, bos_id=1, eos_id=2, pad_id=3, pad_piece="<pad>",
        num_threads=1,
        max_sentence_length=8192,  # the longest speech is about 3,100 bytes
        minloglevel=2,
    )
    return prefix.with_suffix(".model")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=pathlib.Path, default=pathlib.Path(__file__).parent / "work",
                        help="work directory; the tokenizer is written to WORK/tokenizer.model (default: %(default)s)")
    parser.add_argument("--vocab-size", type=int, default=VOCAB_SIZE, help="default: %(default)s")
    args = parser.parse_args()
    path = train(corpus.load_scenes(args.work), args.work / "tokenizer", args.vocab_size)
    sp = spm.SentencePieceProcessor(model_file=str(path))
    print(f"{path}: {sp.vocab_size()} tokens")


if __name__ == "__main__":
    main()
