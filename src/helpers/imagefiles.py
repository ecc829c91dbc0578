"""Image files from outside the pipeline (real works, images made elsewhere): is this file safe to use?"""

from __future__ import annotations

import warnings
from pathlib import Path

from PIL import Image, UnidentifiedImageError

__all__ = ["IMAGE_SUFFIXES", "GENERATED_SUFFIXES", "MAX_PIXELS", "check_image"]

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff"})
"""What a real work may be."""
GENERATED_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp"})
"""What a generated image may be: images made elsewhere (a folder generator) and images to score."""
MAX_PIXELS = 64_000_000
"""Images with more pixels are refused as possible decompression bombs (8000 × 8000)."""


def check_image(path: Path, *, folder: Path | None = None, suffixes: frozenset[str] = IMAGE_SUFFIXES) -> str | None:
    """Why ``path`` cannot be used as an image, or ``None`` when it is a complete, decodable image.

    Refused: links that lead outside ``folder``, files whose suffix is not in ``suffixes``, empty,
    truncated or corrupt images, and images over :data:`MAX_PIXELS` pixels (decompression bombs). Nothing
    is decoded past the limit.
    """
    path = Path(path)
    if path.is_symlink() and folder is not None:
        target = path.resolve()
        try:
            target.relative_to(Path(folder).resolve())
        except ValueError:
            return f"is a symbolic link to {target}, outside the artist's folder"
    if path.suffix.lower() not in suffixes:
        return f"is not an image file (suffix '{path.suffix}'; expected one of {sorted(suffixes)})"
    try:
        if path.stat().st_size == 0:
            return "is empty (0 bytes)"
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                w, h = img.size
                if w * h > MAX_PIXELS:
                    return f"is {w}×{h} pixels, over the {MAX_PIXELS:,}-pixel limit (possible decompression bomb)"
                img.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return "exceeds Pillow's pixel limit (possible decompression bomb)"
    except UnidentifiedImageError:
        return "is not a readable image (corrupt or unknown format)"
    except (OSError, SyntaxError, ValueError) as exc:
        return f"cannot be decoded ({' '.join(str(exc).split())}) — truncated or corrupt"
    return None
