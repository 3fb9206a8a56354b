"""Training examples in the chat format (see chat_format.py). A scene is encoded as

    <s> opening </s> NAME:\\nspeech </s> NAME:\\nspeech </s> ...

and an example is a window that starts like a chat does, with the scene's opening, followed
by the scene's speeches from a random speech on (running into the next scene when the
scene ends before the window does).
"""
import dataclasses

import numpy as np

import chat_format
import corpus

BOS, EOS = 1, 2
MAX_HEADER_TOKENS = 64  # a few scenes open with a long procession


@dataclasses.dataclass
class Split:
    stream: np.ndarray        # every scene of the split, encoded and concatenated
    starts: np.ndarray        # stream offset of each speech
    prefixes: list            # per speech: the token ids of its scene's opening

    @property
    def token_count(self) -> int:
        return len(self.stream)


def encode_splits(sp, scenes: list) -> dict:
    """{"train": Split, "val": Split}, using corpus.is_validation to hold scenes out."""
    parts = {"train": ([], [], []), "val": ([], [], [])}
    offsets = {"train": 0, "val": 0}
    for index, scene in enumerate(scenes):
        name = "val" if corpus.is_validation(index) else "train"
        stream, starts, prefixes = parts[name]
        prefix = [BOS] + sp.encode(scene.header)[:MAX_HEADER_TOKENS] + [EOS]
        stream.append(np.array(prefix, dtype=np.int32))
        offsets[name] += len(prefix)
        for speech in scene.speeches:
            ids = sp.encode(chat_format.speech_part(speech.speaker, speech.text)) + [EOS]
            starts.append(offsets[name])
            prefixes.append(prefix)
            stream.append(np.array(ids, dtype=np.int32))
            offsets[name] += len(ids)
    return {name: Split(np.concatenate(s), np.array(st), p) for name, (s, st, p) in parts.items()}


def sample_windows(split: Split, rng: np.random.Generator, count: int, length: int) -> np.ndarray:
    """`count` examples of `length` + 1 tokens (inputs and shifted targets), int64."""
    out = np.empty((count, length + 1), dtype=np.int64)
    # Speeches that leave room for a whole window after them.
    limit = np.searchsorted(split.starts, split.token_count - length - 1)
    for row, i in enumerate(rng.integers(0, limit, size=count)):
        prefix = split.prefixes[i]
        body = split.stream[split.starts[i]: split.starts[i] + length + 1 - len(prefix)]
        out[row] = np.concatenate([prefix, body])
    return out
