"""Quantization into the K-quant block formats (Q2_K..Q6_K), which the `gguf` package can
read back (gguf.quants.dequantize) but not write. Written from the block layouts, not
ported from ggml: each 256-element super-block has 16 or 8 sub-blocks whose scales (and
minimums) are themselves quantized against one f16 super-block scale. The choice of scales
is the plain one (range of each sub-block); ggml searches harder, so its files are a little
more accurate, but the format, and so every reader, is the same.
"""
import numpy as np

QK_K = 256


def _f16(values: np.ndarray) -> np.ndarray:
    """Values rounded to f16 (as stored), back in f32."""
    return values.astype(np.float16).astype(np.float32)


def _divide(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a / b, 0 where b is 0 (all-zero sub-blocks)."""
    return np.divide(a, b, out=np.zeros(np.broadcast(a, b).shape, dtype=np.float32), where=b != 0)


def _bytes(values: np.ndarray) -> np.ndarray:
    """f16 of (blocks,) as (blocks, 2) bytes."""
    return values.astype(np.float16).reshape(-1, 1).view(np.uint8)


def _affine(x: np.ndarray, sub: int, qmax: int, scale_max: int):
    """x (blocks, 256) ≈ d*sc*q - dmin*m per sub-block of `sub` elements, q in 0..qmax and
    sc, m in 0..scale_max. Returns (q, sc, m, d, dmin)."""
    n = x.shape[0]
    xs = x.reshape(n, -1, sub)
    low = np.minimum(xs.min(axis=2), 0)                   # sub-block minimum, never above 0
    scale = (xs.max(axis=2) - low) / qmax                 # (blocks, subs)
    d = _f16(scale.max(axis=1) / scale_max)               # (blocks,)
    dmin = _f16(-low.min(axis=1) / scale_max)
    sc = np.clip(np.rint(_divide(scale, d[:, None])), 0, scale_max)
    m = np.clip(np.rint(_divide(-low, dmin[:, None])), 0, scale_max)
    step = (d[:, None] * sc)[:, :, None]
    offset = (dmin[:, None] * m)[:, :, None]
    q = np.clip(np.rint(_divide(xs + offset, step)), 0, qmax)
    return q.reshape(n, QK_K).astype(np.uint8), sc.astype(np.uint8), m.astype(np.uint8), d, dmin


def _symmetric(x: np.ndarray, sub: int, qmin: int, scale_max: int):
    """x (blocks, 256) ≈ d*sc*q per sub-block, q in qmin..-qmin-1 and sc in
    -scale_max..scale_max. The element of largest magnitude maps to qmin exactly, so the
    scale's sign follows it. Returns (q, sc, d)."""
    n = x.shape[0]
    xs = x.reshape(n, -1, sub)
    extreme = np.take_along_axis(xs, np.abs(xs).argmax(axis=2)[:, :, None], axis=2)[:, :, 0]
    scale = extreme / qmin                                # (blocks, subs), signed
    d = _f16(np.abs(scale).max(axis=1) / scale_max)
    sc = np.clip(np.rint(_divide(scale, d[:, None])), -scale_max, scale_max)
    step = (d[:, None] * sc)[:, :, None]
    q = np.clip(np.rint(_divide(xs, step)), qmin, -qmin - 1)
    return q.reshape(n, QK_K).astype(np.int16), sc.astype(np.int16), d


def _two_bit_planes(q: np.ndarray) -> np.ndarray:
    """(blocks, 256) values of 0..3 → (blocks, 64) bytes: element 128c + 32j + l is in
    byte 32c + l at bits 2j..2j+1."""
    q = q.reshape(-1, 2, 4, 32).astype(np.uint8)
    return (q[:, :, 0] | q[:, :, 1] << 2 | q[:, :, 2] << 4 | q[:, :, 3] << 6).reshape(-1, 64)


def _bit_plane(bits: np.ndarray) -> np.ndarray:
    """(blocks, 256) bits → (blocks, 32) bytes: element 32b + l is bit b of byte l."""
    bits = bits.reshape(-1, 8, 32).astype(np.uint8)
    return np.bitwise_or.reduce(bits << np.arange(8, dtype=np.uint8)[None, :, None], axis=1)


def _nibbles(q: np.ndarray) -> np.ndarray:
    """(blocks, 256) values of 0..15 → (blocks, 128) bytes: element 64g + 32h + l is in
    byte 32g + l, low nibble for h = 0."""
    q = q.reshape(-1, 4, 2, 32).astype(np.uint8)
    return (q[:, :, 0] | q[:, :, 1] << 4).reshape(-1, 128)


def _scales_6bit(sc: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Eight 6-bit scales and eight 6-bit minimums → 12 bytes (Q4_K, Q5_K): bytes 0-3 and
    4-7 hold scales and minimums 0-3 with the top bits of 4-7 above them; bytes 8-11 hold
    the low nibbles of scales 4-7 (low) and minimums 4-7 (high)."""
    out = np.empty((sc.shape[0], 12), dtype=np.uint8)
    out[:, 0:4] = sc[:, :4] | (sc[:, 4:] >> 4) << 6
    out[:, 4:8] = m[:, :4] | (m[:, 4:] >> 4) << 6
    out[:, 8:12] = (sc[:, 4:] & 0xF) | (m[:, 4:] & 0xF) << 4
    return out


def quantize_q2_k(x):
    q, sc, m, d, dmin = _affine(x, 16, 3, 15)
    return np.concatenate([sc | m << 4, _two_bit_planes(q), _bytes(d), _bytes(dmin)], axis=1)


def quantize_q3_k(x):
    q, sc, d = _symmetric(x, 16, -4, 31)
    q3 = (q + 4).astype(np.uint8)                 # 0..7: high bit set for q >= 0
    u = (sc + 32).astype(np.uint8)                # 6-bit scales, 0..63
    scales = np.empty((x.shape[0], 12), dtype=np.uint8)
    scales[:, 0:8] = (u[:, 0:8] & 0xF) | (u[:, 8:16] & 0xF) << 4
    high = (u >> 4).reshape(-1, 4, 4)             # scale 4s + k: bits 2s..2s+1 of byte 8 + k
    scales[:, 8:12] = high[:, 0] | high[:, 1] << 2 | high[:, 2] << 4 | high[:, 3] << 6
    return np.concatenate([_bit_plane(q3 >> 2), _two_bit_planes(q3 & 3), scales, _bytes(d)], axis=1)


def quantize_q4_k(x):
    q, sc, m, d, dmin = _affine(x, 32, 15, 63)
    return np.concatenate([_bytes(d), _bytes(dmin), _scales_6bit(sc, m), _nibbles(q)], axis=1)


def quantize_q5_k(x):
    q, sc, m, d, dmin = _affine(x, 32, 31, 63)
    return np.concatenate([_bytes(d), _bytes(dmin), _scales_6bit(sc, m), _bit_plane(q >> 4), _nibbles(q & 0xF)], axis=1)


def quantize_q6_k(x):
    q, sc, d = _symmetric(x, 16, -32, 127)
    q6 = (q + 32).astype(np.uint8).reshape(-1, 2, 2, 64)   # 0..63; element 128c + 64h + m
    low = (q6[:, :, 0] & 0xF) | (q6[:, :, 1] & 0xF) << 4   # byte 64c + m, nibble h
    high = (q6 >> 4).reshape(-1, 2, 4, 32)                 # element 128c + 32s + l: byte 32c + l, bits 2s
    high = high[:, :, 0] | high[:, :, 1] << 2 | high[:, :, 2] << 4 | high[:, :, 3] << 6
    return np.concatenate([low.reshape(-1, 128), high.reshape(-1, 64),
                           sc.astype(np.int8).view(np.uint8), _bytes(d)], axis=1)


QUANTIZERS = {"Q2_K": quantize_q2_k, "Q3_K": quantize_q3_k, "Q4_K": quantize_q4_k,
              "Q5_K": quantize_q5_k, "Q6_K": quantize_q6_k}


def quantize(rows: np.ndarray, type_name: str) -> np.ndarray:
    """(rows, cols) f32, cols a multiple of 256 → (rows, bytes per row) uint8."""
    rows = np.ascontiguousarray(rows, dtype=np.float32)
    if rows.shape[-1] % QK_K:
        raise ValueError(f"{type_name} needs rows of a multiple of {QK_K} elements, not {rows.shape[-1]}")
    blocks = QUANTIZERS[type_name](rows.reshape(-1, QK_K))
    return blocks.reshape(rows.shape[0], -1)
