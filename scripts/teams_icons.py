#!/usr/bin/python3
"""teams_icons.py - draw the Teams app icons into config/teams/ (standard library only).

  /usr/bin/python3 scripts/teams_icons.py [DIR]

Writes DIR/color.png (192x192: a white bell on the accent colour, edge to edge) and
DIR/outline.png (32x32: the same bell in white on transparent, as Teams wants its outline
icon). DIR defaults to config/teams. The bell is a few shapes in a unit square, each pixel
sampled 4x4 times for smooth edges; the output is the same on every run, so the committed
PNGs can be checked against it.
"""

import os
import struct
import sys
import zlib

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
ACCENT = (0xC2, 0x41, 0x0C)  # config/teams/manifest.json's accentColor, #C2410C
WHITE = (255, 255, 255)
SAMPLES = 4


def in_bell(x, y):
    """Whether the point (x, y) of the unit square (y down) is inside the bell."""
    cx = 0.5
    dx = abs(x - cx)
    if (x - cx) ** 2 + (y - 0.19) ** 2 <= 0.045 ** 2:  # the knob on top
        return True
    if y <= 0.37 and (x - cx) ** 2 + (y - 0.37) ** 2 <= 0.17 ** 2:  # the dome
        return True
    if 0.37 <= y <= 0.68:  # the body, flaring out towards the lip
        t = (y - 0.37) / 0.31
        return dx <= 0.17 + 0.12 * t * t
    if 0.67 <= y <= 0.73:  # the lip, with rounded ends
        if dx <= 0.30:
            return True
        return (dx - 0.30) ** 2 + (y - 0.70) ** 2 <= 0.03 ** 2
    if (x - cx) ** 2 + (y - 0.79) ** 2 <= 0.07 ** 2:  # the clapper below it
        return y >= 0.745  # a thin gap between lip and clapper
    return False


def coverage(size, px, py, margin):
    """The share of pixel (px, py) the bell covers, the bell scaled into the square
    with `margin` (a fraction of the side) left free on every side."""
    hit = 0
    scale = 1.0 - 2 * margin
    for sy in range(SAMPLES):
        for sx in range(SAMPLES):
            u = ((px + (sx + 0.5) / SAMPLES) / size - margin) / scale
            v = ((py + (sy + 0.5) / SAMPLES) / size - margin) / scale
            hit += in_bell(u, v)
    return hit / (SAMPLES * SAMPLES)


def png(width, height, rows):
    """A truecolour-with-alpha PNG from rows of (r, g, b, a) tuples."""
    raw = b"".join(b"\0" + bytes(c for px in row for c in px) for row in rows)

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def color_icon(size=192):
    rows = []
    for py in range(size):
        row = []
        for px in range(size):
            a = coverage(size, px, py, 0.14)
            row.append(tuple(round(b + (w - b) * a) for b, w in zip(ACCENT, WHITE)) + (255,))
        rows.append(row)
    return png(size, size, rows)


def outline_icon(size=32):
    rows = [[WHITE + (round(255 * coverage(size, px, py, 0.04)),) for px in range(size)]
            for py in range(size)]
    return png(size, size, rows)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "config", "teams")
    os.makedirs(out, exist_ok=True)
    for name, data in (("color.png", color_icon()), ("outline.png", outline_icon())):
        path = os.path.join(out, name)
        with open(path, "wb") as f:
            f.write(data)
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
