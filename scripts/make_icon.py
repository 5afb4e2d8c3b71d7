#!/usr/bin/env python3
"""Draws assets/icon.png (a gold key on a blue rounded square) with nothing but the standard library."""
import math, struct, zlib, pathlib

N = 128
def inside_rounded(x, y, r=26):
    cx = min(max(x, r), N - 1 - r); cy = min(max(y, r), N - 1 - r)
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r

def key(x, y):
    # A ring (the bow), a shaft and two teeth, drawn on a diagonal.
    u = (x - 44) * math.cos(math.pi / 4) + (y - 44) * math.sin(math.pi / 4)
    v = -(x - 44) * math.sin(math.pi / 4) + (y - 44) * math.cos(math.pi / 4)
    d = math.hypot(u, v)
    if 9 <= d <= 22: return True
    if 20 <= u <= 78 and -5 <= v <= 5: return True
    if 60 <= u <= 67 and 5 <= v <= 18: return True
    if 71 <= u <= 78 and 5 <= v <= 14: return True
    return False

rows = []
for y in range(N):
    row = bytearray([0])
    for x in range(N):
        if not inside_rounded(x, y):
            row += bytes([0, 0, 0, 0])
        elif key(x, y):
            row += bytes([242, 190, 60, 255])
        else:
            t = y / N
            row += bytes([int(28 + 20 * t), int(64 + 30 * t), int(140 + 40 * t), 255])
    rows.append(bytes(row))

def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", N, N, 8, 6, 0, 0, 0))
png += chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + chunk(b"IEND", b"")
out = pathlib.Path(__file__).resolve().parent.parent / "assets" / "icon.png"
out.write_bytes(png)
print(f"wrote {out} ({len(png)} bytes)")
