"""Post-processing chains (params ``transforms``): what happens to an image between the generator (or the
folder) and the encoder — JPEG re-encoding, resizing down and back up, cropping, Gaussian noise, Gaussian
blur, or the image at the same relative path in another folder (protected works made elsewhere).

Pure and deterministic: :func:`apply` maps an image's bytes and a chain to PNG bytes (lossless, so the chain's
result is what is encoded), with Pillow's codecs and filters; the randomness of a step (noise, a random crop)
comes from a generator seeded by the source image's hash, the chain's digest and the step's position
(:func:`seed`), so the same image through the same chain gives the same bytes on every run. Reading the
source, the folder images and the cache is the caller's (stage 03).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from .files import json_digest
from .schema import TransformSpec

__all__ = ["apply", "seed", "derived_key", "strength", "applies", "folder_steps", "counterpart", "STRENGTH"]

STRENGTH = {"jpeg": "quality", "resize": "size", "crop": "fraction", "noise": "sigma", "blur": "radius"}
"""The parameter that sets each step's strength (the x axis of the transform figure)."""
_RESAMPLE = Image.Resampling.BICUBIC


def seed(source_key: str, chain: TransformSpec) -> int:
    """The seed of one image through one chain: from the image's hash and the chain's digest."""
    return int(json_digest({"image": source_key, "chain": chain.digest()})[:16], 16)


def derived_key(source_key: str, chain: TransformSpec, counterpart_keys: Sequence[str] = ()) -> str:
    """The cache key of a transformed image: the source's hash, the chain's digest, and the hashes of the
    folder images its folder steps read (so a changed folder image is a new product)."""
    return json_digest({"image": source_key, "chain": chain.digest(), "folders": list(counterpart_keys)})


def applies(chain: TransformSpec | None, kind: str) -> bool:
    """Whether ``chain`` transforms an image of ``kind`` (``imitation`` or ``real``)."""
    if chain is None:
        return False
    return chain.applies_to == "both" or chain.applies_to == {"imitation": "imitations", "real": "real_works"}[kind]


def folder_steps(chain: TransformSpec) -> list[tuple[int, str]]:
    """``(position, folder)`` of each folder step of ``chain``."""
    return [(i, s.path) for i, s in enumerate(chain.steps) if s.step == "folder"]


def strength(chain: TransformSpec) -> tuple[str, float] | None:
    """``(step, value)`` for a chain of one step with a strength (e.g. ``("jpeg", 30)``); else ``None``."""
    if len(chain.steps) != 1 or chain.steps[0].step not in STRENGTH:
        return None
    step = chain.steps[0]
    return step.step, float(getattr(step, STRENGTH[step.step]))


def apply(data: bytes, chain: TransformSpec, source_key: str, counterparts: Sequence[bytes] = ()) -> bytes:
    """The PNG bytes of image ``data`` (hash ``source_key``) after ``chain``; the i-th folder step takes the
    i-th of ``counterparts`` (the image at the same relative path in its folder)."""
    base = seed(source_key, chain)
    supply = iter(counterparts)
    with Image.open(io.BytesIO(data)) as opened:
        img = opened.convert("RGB")
    for position, step in enumerate(chain.steps):
        rng = np.random.default_rng([base, position])
        img = _STEP[step.step](img, step, rng, supply)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def _jpeg(img: Image.Image, step, rng, supply) -> Image.Image:
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=step.quality)
    with Image.open(io.BytesIO(buf.getvalue())) as decoded:
        return decoded.convert("RGB")


def _resize(img: Image.Image, step, rng, supply) -> Image.Image:
    w, h = img.size
    scale = step.size / max(w, h)
    if scale >= 1:
        return img
    small = img.resize((max(1, round(w * scale)), max(1, round(h * scale))), _RESAMPLE)
    return small.resize((w, h), _RESAMPLE)


def _crop(img: Image.Image, step, rng, supply) -> Image.Image:
    w, h = img.size
    cw, ch = max(1, round(w * step.fraction)), max(1, round(h * step.fraction))
    if step.mode == "centre":
        left, top = (w - cw) // 2, (h - ch) // 2
    else:
        left, top = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
    return img.crop((left, top, left + cw, top + ch)).resize((w, h), _RESAMPLE)


def _noise(img: Image.Image, step, rng, supply) -> Image.Image:
    pixels = np.asarray(img, dtype=np.float64)
    noisy = pixels + rng.normal(0.0, step.sigma, size=pixels.shape)
    return Image.fromarray(np.clip(np.rint(noisy), 0, 255).astype(np.uint8))


def _blur(img: Image.Image, step, rng, supply) -> Image.Image:
    return img.filter(ImageFilter.GaussianBlur(radius=step.radius))


def _folder(img: Image.Image, step, rng, supply) -> Image.Image:
    with Image.open(io.BytesIO(next(supply))) as other:
        return other.convert("RGB")


_STEP = {"jpeg": _jpeg, "resize": _resize, "crop": _crop, "noise": _noise, "blur": _blur, "folder": _folder}


def counterpart(folder: str | Path, relative: str | Path) -> Path:
    """The image a folder step uses for a source image at ``relative`` (its path below its own root)."""
    return Path(folder) / relative
