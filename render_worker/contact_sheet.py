"""Contact sheet: all views side by side (up to 3 per row), each labelled with its view name."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw

LABEL_HEIGHT = 18
COLUMNS = 3


def write_contact_sheet(images: Sequence[Path], labels: Sequence[str], out: Path) -> Path:
    tiles = [Image.open(p).convert("RGB") for p in images]
    width, height = tiles[0].size
    cols = min(COLUMNS, len(tiles))
    rows = math.ceil(len(tiles) / cols)
    sheet = Image.new("RGB", (cols * width, rows * (height + LABEL_HEIGHT)), "white")
    draw = ImageDraw.Draw(sheet)
    for i, (tile, label) in enumerate(zip(tiles, labels, strict=True)):
        x, y = (i % cols) * width, (i // cols) * (height + LABEL_HEIGHT)
        sheet.paste(tile, (x, y + LABEL_HEIGHT))
        draw.text((x + 4, y + 3), label, fill="black")
    sheet.save(out, compress_level=1)
    return out
