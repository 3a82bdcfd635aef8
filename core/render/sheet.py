"""Contact sheets and PNG files from rendered images (PIL, which scikit-image already requires)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from core.io import atomic_write

#: Height of the caption strip under each image, and the gap between tiles, in pixels.
LABEL_HEIGHT = 22
GAP = 4
SHEET_BACKGROUND = (255, 255, 255)
LABEL_COLOR = (40, 40, 40)


def contact_sheet(images: list[np.ndarray], labels: list[str] | None = None, columns: int = 4) -> np.ndarray:
    """Tile images row by row, each with its caption underneath, into one RGB uint8 image.

    Images may differ in size; every tile takes the size of the largest.
    """
    from PIL import Image, ImageDraw, ImageFont

    if not images:
        raise ValueError("contact_sheet needs at least one image")
    if labels is not None and len(labels) != len(images):
        raise ValueError(f"{len(labels)} labels for {len(images)} images")
    columns = max(1, min(columns, len(images)))
    rows = -(-len(images) // columns)
    tile_h = max(image.shape[0] for image in images)
    tile_w = max(image.shape[1] for image in images)
    caption = LABEL_HEIGHT if labels else 0
    sheet = Image.new("RGB", (columns * tile_w + (columns + 1) * GAP,
                              rows * (tile_h + caption) + (rows + 1) * GAP), SHEET_BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default(size=max(10, LABEL_HEIGHT - 8))
    for index, image in enumerate(images):
        row, column = divmod(index, columns)
        x = GAP + column * (tile_w + GAP)
        y = GAP + row * (tile_h + caption + GAP)
        sheet.paste(Image.fromarray(_rgb(image)), (x, y))
        if labels:
            draw.text((x + tile_w // 2, y + tile_h + caption // 2), str(labels[index]), fill=LABEL_COLOR,
                      font=font, anchor="mm")
    return np.asarray(sheet)


def save_png(image: np.ndarray, path: str | Path) -> Path:
    """Write an RGB(A) uint8 image as PNG, atomically (:func:`core.io.atomic_write`)."""
    from PIL import Image

    path = Path(path)
    picture = Image.fromarray(_rgb(image))
    with atomic_write(path) as temporary:
        picture.save(temporary, format="PNG")
    return path


def _rgb(image: np.ndarray) -> np.ndarray:
    """Validate an (H, W, 3|4) uint8 image."""
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] not in (3, 4) or image.dtype != np.uint8:
        raise ValueError(f"expected an (H, W, 3) uint8 image, got {image.shape} {image.dtype}")
    return image
