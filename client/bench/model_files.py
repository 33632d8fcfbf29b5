"""Model files for the model import benchmark, written with numpy: a
transformer-like safetensors model (BF16 and F32 tensors, Hugging Face
names), a fine-tune of it with a fraction of its tensors changed, and the
same weights as GGUF (v3, F32/F16 tensors) with a metadata value that can be
changed. Values are random normal (seeded): real weights compress little
more than that, and this bounds compression's help from below.
"""
import json, struct
import numpy as np


def transformer_tensors(total_bytes, seed=1, hidden=2048, ffn=5632):
    """(name, numpy array, safetensors dtype) until total_bytes is reached."""
    rng = np.random.default_rng(seed)
    out, size, layer = [], 0, 0
    out.append(("model.embed_tokens.weight",
                rng.standard_normal((8000, hidden), dtype=np.float32).astype(np.float16).view(np.uint16), "BF16"))
    size += out[-1][1].nbytes
    while size < total_bytes:
        p = f"model.layers.{layer}."
        for name, shape, dt in [("self_attn.q_proj.weight", (hidden, hidden), "BF16"),
                                ("self_attn.k_proj.weight", (hidden // 4, hidden), "BF16"),
                                ("self_attn.v_proj.weight", (hidden // 4, hidden), "BF16"),
                                ("self_attn.o_proj.weight", (hidden, hidden), "BF16"),
                                ("mlp.gate_proj.weight", (ffn, hidden), "BF16"),
                                ("mlp.up_proj.weight", (ffn, hidden), "BF16"),
                                ("mlp.down_proj.weight", (hidden, ffn), "BF16"),
                                ("input_layernorm.weight", (hidden,), "F32"),
                                ("post_attention_layernorm.weight", (hidden,), "F32")]:
            if dt == "F32":
                a = (1.0 + 0.01 * rng.standard_normal(shape, dtype=np.float32))
            else:
                a = (0.02 * rng.standard_normal(shape, dtype=np.float32)).view(np.uint32) >> 16
                a = a.astype(np.uint16)
            out.append((p + name, a, dt))
            size += a.nbytes
        layer += 1
    return out


def fine_tune(tensors, changed_fraction, seed=2):
    """A copy whose last changed_fraction of the tensors (by count: the last
    layers, as a fine-tune that freezes the first ones) have every value
    changed. Returns it and the bytes of the changed tensors."""
    rng = np.random.default_rng(seed)
    out, changed = list(tensors), 0
    for i in range(len(out) - int(round(changed_fraction * len(out))), len(out)):
        name, a, dt = out[i]
        b = a.copy()
        flat = b.reshape(-1).view(np.uint8)
        flat ^= rng.integers(1, 255, size=flat.shape, dtype=np.uint8)
        out[i] = (name, b, dt)
        changed += a.nbytes
    return out, changed


def write_safetensors(path, tensors, metadata=None):
    header, offset = {}, 0
    for name, a, dt in tensors:
        header[name] = {"dtype": dt, "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
    if metadata:
        header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for _, a, _ in tensors:
            f.write(np.ascontiguousarray(a).tobytes())


def _gguf_string(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def write_gguf(path, tensors, name, alignment=32):
    """GGUF v3: general.architecture, general.name, one u32; tensors as F16
    (safetensors BF16 bits written as F16 type, which is only bytes here) or
    F32, dims innermost first, data aligned."""
    kvs = [("general.architecture", 8, _gguf_string("llama")),
           ("general.name", 8, _gguf_string(name)),
           ("llama.context_length", 4, struct.pack("<I", 4096))]
    out = bytearray(b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kvs)))
    for key, t, v in kvs:
        out += _gguf_string(key) + struct.pack("<I", t) + v
    offset = 0
    infos = []
    for tname, a, dt in tensors:
        ggml = 0 if dt == "F32" else 1
        dims = list(reversed(a.shape))
        out += _gguf_string(tname) + struct.pack("<I", len(dims))
        out += b"".join(struct.pack("<Q", d) for d in dims)
        out += struct.pack("<IQ", ggml, offset)
        infos.append(offset)
        offset += a.nbytes
        offset += (-offset) % alignment
    out += b"\0" * ((-len(out)) % alignment)
    with open(path, "wb") as f:
        f.write(out)
        pos = 0
        for (tname, a, dt), off in zip(tensors, infos):
            f.write(b"\0" * (off - pos))
            f.write(np.ascontiguousarray(a).tobytes())
            pos = off + a.nbytes
        f.write(b"\0" * ((-pos) % alignment))
