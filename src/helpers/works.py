"""Real works from outside the pipeline: where each came from, and one work for one artist.

**Origin.** Every real work says what it is: ``metadata`` (sampled from the caption metadata and downloaded
by :func:`helpers.download.download_real_works`, so possibly one of the generator's training images),
``folder`` (put in the real-works folder by a user), ``toyworld`` (the toy world's held-out works, drawn by
the same generator of styles as its training images) or ``standin`` (made by the generator itself, smoke
profile). A downloaded file is known by the download manifest (``manifest.csv``: ``artist, url, file,
caption, form``) in the folder's root; a folder can name the origin of its other files in ``origin.json``
(``{"origin": "toyworld"}``, as the toy world's does); any other file is ``folder``.

**One work, one artist.** The same image filed under two artists makes each look like the other. Works of
different artists whose SHA-256 is equal (*exact*) or whose 64-bit perceptual hashes (pHash, from
``imagehash``) differ in at most ``distance`` bits (*near*: re-encoded, resized) are all dropped and listed.
Duplicates within one artist's works are left alone.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import AuditError
from .files import read_table
from .metadata import DROP_COLUMNS

__all__ = [
    "ORIGINS",
    "DOWNLOAD_MANIFEST",
    "CAPTION_DROPS",
    "ORIGIN_FILE",
    "DUPLICATE_COLUMNS",
    "folder_origin",
    "downloaded",
    "perceptual_hash",
    "cross_artist_duplicates",
    "read_caption_drops",
]

ORIGINS = ("metadata", "folder", "toyworld", "standin")
DOWNLOAD_MANIFEST = "manifest.csv"
"""Written by the downloader in the real-works folder: which file each URL became, with its caption and form."""
CAPTION_DROPS = "caption_drops.csv"
"""Written by the downloader beside it: the sampler's captions dropped per artist and reason."""
ORIGIN_FILE = "origin.json"
DUPLICATE_COLUMNS = ("artist", "path", "sha256", "phash", "kind", "other_artist", "other_path", "distance")
_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)
_CHUNK = 256


def folder_origin(root: Path) -> str:
    """The origin of the files of ``root`` that were not downloaded: ``origin.json``'s, else ``folder``."""
    path = Path(root) / ORIGIN_FILE
    if not path.is_file():
        return "folder"
    try:
        origin = json.loads(path.read_text(encoding="utf-8")).get("origin")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError):
        origin = None
    if origin not in ORIGINS:
        raise AuditError(
            f"{path} does not name an origin ({', '.join(ORIGINS)})",
            where=str(path),
            fix='write {"origin": "folder"} or delete the file',
        )
    return origin


def downloaded(root: Path) -> dict[str, dict[str, str]]:
    """The downloaded files of ``root``, by path relative to it: ``{file: {url, caption, form}}`` (caption and
    form empty for a manifest written before they were recorded)."""
    path = Path(root) / DOWNLOAD_MANIFEST
    if not path.is_file():
        return {}
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise AuditError(
            f"cannot read the download manifest ({exc})",
            where=str(path),
            fix="delete it (the files then count as a user's folder)",
        ) from None
    if not {"url", "file"} <= set(table.columns):
        return {}
    return {
        row["file"]: {"url": row["url"], "caption": row.get("caption", ""), "form": row.get("form", "")}
        for row in table.to_dict("records")
    }


def read_caption_drops(root: Path) -> pd.DataFrame | None:
    """The sampler's caption drops the downloader recorded in ``root`` (:data:`helpers.metadata.DROP_COLUMNS`),
    counts as integers; ``None`` when there is no such record."""
    path = Path(root) / CAPTION_DROPS
    if not path.is_file():
        return None
    return DROP_COLUMNS.typed(read_table(path, columns=("artist",)), str(path))  # the columns it recorded


def perceptual_hash(path: str | os.PathLike) -> str:
    """The 64-bit pHash of an image, 16 hex digits (``imagehash.phash``: DCT of the 32×32 grey image)."""
    import imagehash
    from PIL import Image

    with Image.open(path) as img:
        return str(imagehash.phash(img))


def cross_artist_duplicates(
    artists: Sequence[str], paths: Sequence[str], sha256: Sequence[str], phash: Sequence[str], *, distance: int
) -> pd.DataFrame:
    """Every work that is also, exactly or nearly, another artist's work: :data:`DUPLICATE_COLUMNS`, one row
    per dropped work with its closest work of another artist (``kind`` ``exact`` when the bytes are equal,
    ``distance`` the pHash bits that differ)."""
    n = len(paths)
    rows = []
    if n:
        names = np.asarray(artists, dtype=object)
        hashes = np.array([int(h, 16) for h in phash], dtype=np.uint64)
        digests = np.asarray(sha256, dtype=object)
        for lo in range(0, n, _CHUNK):
            xor = (hashes[lo : lo + _CHUNK, None] ^ hashes[None, :]).view(np.uint8).reshape(-1, n, 8)
            bits = _POPCOUNT[xor].sum(axis=-1, dtype=np.int64)
            same = digests[lo : lo + _CHUNK, None] == digests[None, :]
            other = names[lo : lo + _CHUNK, None] != names[None, :]
            bits = np.where(same, 0, bits)
            hit = other & (bits <= distance)
            for k in np.flatnonzero(hit.any(axis=1)).tolist():
                i = lo + k
                j = int(np.flatnonzero(hit[k])[np.argmin(bits[k, hit[k]])])
                rows.append(
                    {
                        "artist": names[i],
                        "path": paths[i],
                        "sha256": digests[i],
                        "phash": phash[i],
                        "kind": "exact" if digests[i] == digests[j] else "near",
                        "other_artist": names[j],
                        "other_path": paths[j],
                        "distance": int(bits[k, j]),
                    }
                )
    return pd.DataFrame(rows, columns=list(DUPLICATE_COLUMNS))
