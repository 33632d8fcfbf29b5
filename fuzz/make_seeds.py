#!/usr/bin/env python3
"""Writes a few small valid inputs of one format into a fuzz corpus dir."""
import os, struct, sys, zlib

fmt, out = sys.argv[1], sys.argv[2]

def png(w, h, color, channels):
    raw = b"".join(b"\x00" + bytes((x * 7 + y) & 255 for x in range(w * channels)) for y in range(h))
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, color, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))

def wav(channels, bits, frames):
    align = channels * bits // 8
    data = bytes(i & 255 for i in range(frames * align))
    fmt_chunk = struct.pack("<HHIIHH", 1, channels, 8000, 8000 * align, align, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt_chunk + b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body

seeds = {
    "text": [b"Hello. World!\n\nSecond paragraph.\r\n", "caf\u00e9 \u65e5\u672c.".encode()],
    "binary": [bytes(range(256)) * 20],
    "wav": [wav(1, 16, 50), wav(2, 8, 33)],
    "pnm": [b"P5\n3 2\n255\n" + bytes(6), b"P6 2 2 65535\n" + bytes(24)],
    "idx": [b"\x00\x00\x08\x03" + struct.pack(">III", 2, 3, 3) + bytes(range(18))],
    "png": [png(5, 3, 2, 3), png(4, 4, 0, 1)],
    "jpeg": [],
    "y4m": [b"YUV4MPEG2 W4 H2 C420jpeg\nFRAME\n" + bytes(8 + 2 + 2)],
    # Request metadata: objects, escapes, numbers, brackets inside strings,
    # nesting at and past the 64-level limit.
    "json_metadata": [b'{"lang":"en","n":3,"ok":true,"x":null}',
                      b'{"a":[1,-2.5e3,{"b":"[{\\"}]\\u00e9"}],"c":{}}',
                      b"[" * 64 + b"]" * 64, b"{\"k\":" + b"[" * 64 + b"]" * 64 + b"}",
                      b"[" * 200],
}
# A 12x10 RGB baseline JPEG (quality 50) written by libjpeg-turbo.
JPEG_12x10 = bytes.fromhex(
    "ffd8ffe000104a46494600010100000100010000ffdb004300100b0c0e0c0a100e0d0e1211101318281a181616183123"
    "251d283a333d3c3933383740485c4e404457453738506d51575f626768673e4d71797064785c656763ffdb0043011112"
    "121815182f1a1a2f63423842636363636363636363636363636363636363636363636363636363636363636363636363"
    "6363636363636363636363636363ffc0001108000a000c03012200021101031101ffc4001f0000010501010101010100"
    "000000000000000102030405060708090a0bffc400b5100002010303020403050504040000017d010203000411051221"
    "31410613516107227114328191a1082342b1c11552d1f02433627282090a161718191a25262728292a3435363738393a"
    "434445464748494a535455565758595a636465666768696a737475767778797a838485868788898a9293949596979899"
    "9aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1"
    "f2f3f4f5f6f7f8f9faffc4001f0100030101010101010101010000000000000102030405060708090a0bffc400b51100"
    "020102040403040705040400010277000102031104052131061241510761711322328108144291a1b1c109233352f015"
    "6272d10a162434e125f11718191a262728292a35363738393a434445464748494a535455565758595a63646566676869"
    "6a737475767778797a82838485868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4"
    "c5c6c7c8c9cad2d3d4d5d6d7d8d9dae2e3e4e5e6e7e8e9eaf2f3f4f5f6f7f8f9faffda000c03010002110311003f005d"
    "3a28b46d29ef664ddb000a99c1763d07f9ed9aa10d84f7c1aeae49926958b331ff003d2af789c911e931824231918af6"
    "246dc1c7e27f335b3a6aafd8d381f9535ab62e87ffd9")
seeds["jpeg"] = [JPEG_12x10]

def stream(selector, limit_units, messages):
    """A client_stream input: request type, limit, gRPC-framed messages."""
    return bytes([selector]) + struct.pack(">H", limit_units) + b"".join(
        b"\x00" + struct.pack(">I", len(m)) + m for m in messages)

# IngestAtomsRequest{atoms{content:"hi"}}, IngestDocumentRequest{content:"abc",
# modality:"text"}, AddEmbeddingsRequest{collection:"c", embeddings{atom_id:1,
# vector:[1.0]}}.
ATOMS = bytes.fromhex("0a040a026869")
DOCUMENT = bytes.fromhex("0a036162631204" + b"text".hex())
EMBEDDINGS = bytes.fromhex("0a01631a080801120400" + "00803f")
seeds["client_stream"] = [
    stream(0, 4096, [ATOMS, ATOMS, b""]),
    stream(1, 4096, [DOCUMENT, bytes.fromhex("0a03646566")]),
    stream(2, 4096, [EMBEDDINGS, EMBEDDINGS]),
    stream(0, 1, [ATOMS * 4, ATOMS]),
    stream(1, 4096, [DOCUMENT, b"\x0a\x64\x01\x02"]),
]
# Model files. safetensors and GGUF seeds are written here by the formats'
# rules (several dtypes, metadata, every GGUF value type, quantized blocks);
# ONNX seeds are the small real models of Debian's libonnx-testdata that
# hold initializers or Constant nodes (raw_data, typed fields, subgraphs).
import glob, json

def safetensors(tensors, metadata=None):
    header, data = {}, b""
    if metadata:
        header["__metadata__"] = metadata
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    js = json.dumps(header, separators=(",", ":")).encode()
    js += b" " * (-len(js) % 8)
    return struct.pack("<Q", len(js)) + js + data

seeds["safetensors"] = [
    safetensors([("model.embed_tokens.weight", "F32", [2, 3], bytes(range(24))),
                 ("model.layers.0.mlp.up_proj.weight", "BF16", [3, 1], bytes(6)),
                 ("scalar", "I64", [], bytes(8)), ("empty", "F16", [0, 4], b""),
                 ("packed", "F4", [2, 3], b"\x12\x34\x56")], {"format": "pt"}),
    safetensors([("w", "F8_E4M3", [4], b"\x01\x02\x03\x04"), ("c", "C64", [1], bytes(8)),
                 ("f6", "F6_E2M3", [4], b"abc"), ("b", "BOOL", [2], b"\x00\x01")]),
    safetensors([]),
]

def gguf_str(s):
    s = s.encode() if isinstance(s, str) else s
    return struct.pack("<Q", len(s)) + s

def gguf(kvs, tensors, version=3, alignment=32):
    out = b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(kvs))
    for key, vtype, raw in kvs:
        out += gguf_str(key) + struct.pack("<I", vtype) + raw
    offset, data = 0, b""
    for name, dims, gtype, raw in tensors:
        out += gguf_str(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
        out += struct.pack("<IQ", gtype, offset)
        padded = raw + bytes(-len(raw) % alignment)
        data += padded
        offset += len(padded)
    out += bytes(-len(out) % alignment)
    return out + data

GGUF_KVS = [
    (b"general.architecture", 8, gguf_str(b"llama")), (b"u8", 0, b"\x07"), (b"i8", 1, b"\xff"),
    (b"u16", 2, struct.pack("<H", 9)), (b"i16", 3, struct.pack("<h", -9)),
    (b"u32", 4, struct.pack("<I", 9)), (b"i32", 5, struct.pack("<i", -9)),
    (b"f32", 6, struct.pack("<f", 1.5)), (b"bool", 7, b"\x01"), (b"u64", 10, struct.pack("<Q", 9)),
    (b"i64", 11, struct.pack("<q", -9)), (b"f64", 12, struct.pack("<d", 2.5)),
    (b"tokens", 9, struct.pack("<IQ", 8, 2) + gguf_str(b"<s>") + gguf_str(b"a")),
    (b"nested", 9, struct.pack("<IQ", 9, 1) + struct.pack("<IQ", 5, 2) + struct.pack("<ii", 1, 2)),
]
seeds["gguf"] = [
    gguf(GGUF_KVS, [("token_embd.weight", [4, 2], 0, bytes(range(32))),
                    ("blk.0.attn_q.weight", [32], 8, bytes(34)),
                    ("blk.0.ffn_up.weight", [32, 2], 2, bytes(36)),
                    ("output_norm.weight", [3], 30, bytes(6))]),
    gguf([(b"general.alignment", 4, struct.pack("<I", 64))], [("w", [256], 12, bytes(144))], version=2,
         alignment=64),
    gguf([], []),
]
seeds["onnx"] = []
for path in sorted(glob.glob("/usr/share/libonnx-testdata/data/**/model.onnx", recursive=True)):
    with open(path, "rb") as f:
        model = f.read()
    # Constant nodes, or the converted PyTorch models' initializers; small
    # enough for -max_len.
    if len(model) < 16384 and (b"Constant" in model or "/pytorch-" in path) and len(seeds["onnx"]) < 40:
        seeds["onnx"].append(model)
# External data: a few of them with their initializers moved to
# "weights.bin" (location / offset / length, data_location EXTERNAL), as
# onnx.save_model(..., save_as_external_data=True) writes them.
try:
    import onnx
    from onnx import external_data_helper
    external = 0
    for path in sorted(glob.glob("/usr/share/libonnx-testdata/data/pytorch-converted/*/model.onnx")):
        with open(path, "rb") as f:
            m = onnx.load_from_string(f.read())
        if m.ByteSize() > 16384:
            continue
        offset = 0
        for t in m.graph.initializer:
            if not t.HasField("raw_data"):
                continue
            length = len(t.raw_data)
            external_data_helper.set_external_data(t, "weights.bin", offset, length)
            t.ClearField("raw_data")
            t.data_location = onnx.TensorProto.EXTERNAL
            offset += length
        if offset > 0 and external < 6:
            seeds["onnx"].append(m.SerializeToString())
            external += 1
except ImportError:
    pass  # python3-onnx missing: the plain seeds only

# Real text: Debian's license texts (those that fit -max_len), for the text
# and binary decomposers and the chunker (behind its 6 option bytes).
licenses = []
for path in sorted(glob.glob("/usr/share/common-licenses/*")):
    if os.path.isfile(path) and os.path.getsize(path) < 60000 and len(licenses) < 8:
        with open(path, "rb") as f:
            licenses.append(f.read())
seeds["text"] += licenses
seeds["binary"] += licenses
seeds["chunker"] = [b"\x00\x00\x00\x00\x00\x00" + bytes(range(256)) * 40,
                    b"\x01\x00\x02\x00\x04\x00" + b"".join(licenses)[:60000]]
seeds["chunker"] += [bytes([i, 0, i, 0, i, 0]) + text for i, text in enumerate(licenses)]

# Page tokens as the server writes them (fuzz/page_token_fuzzer.cc's key and
# filter): base64url of (key, fingerprint, 8 bytes of HMAC-SHA256).
import base64, hashlib, hmac

def page_token(last_key, parts):
    joined = b"".join(struct.pack(">Q", len(p)) + p for p in parts)
    fingerprint = hashlib.sha256(joined).digest()[:8]
    raw = last_key + fingerprint
    raw += hmac.new(b"k" * 32, raw, hashlib.sha256).digest()[:8]
    return base64.urlsafe_b64encode(raw).rstrip(b"=")

seeds["page_token"] = [page_token(struct.pack(">Q", 12345), [b"atoms", b"text"]),
                       page_token(b"relation key \x00\x01", [b"atoms", b"text"]),
                       page_token(b"", [b"atoms", b"text"]), b"not a token", b""]

for i, s in enumerate(seeds[fmt]):
    with open(os.path.join(out, f"seed{i}"), "wb") as f:
        f.write(s)
