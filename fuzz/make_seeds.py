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
}
if fmt == "jpeg":
    seeds["jpeg"] = [b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"]
for i, s in enumerate(seeds[fmt]):
    with open(os.path.join(out, f"seed{i}"), "wb") as f:
        f.write(s)
