"""Stage 05: are an artist's real works closer to that artist's imitations than to other artists'?

For artist *a* and every imitation *i*, s(i) aggregates the cosine similarities of *a*'s real works to *i*
(mean by default). A one-sided Mann–Whitney U test asks whether s is larger on *a*'s own imitations than
on the other artists'; p-values are corrected across artists (Bonferroni, as the paper). The computation
is :func:`helpers.stats.validation_table`; this module finds, checks and reads the real works.

Real works come from a folder with one subfolder per artist, named as the artist or as
:func:`helpers.names.slug` of the name (the layout the downloader writes)::

    data/real_works/Greg Rutkowski/0001.jpg
    data/real_works/greg-rutkowski-1a2b3c4d5e6f7a8b/000000.jpg
"""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, UnidentifiedImageError

from . import stats
from .classification import read_embeddings
from .errors import AuditError
from .names import slug
from .params import resolve_path
from .run import read_table, write_table

__all__ = ["IMAGE_SUFFIXES", "MAX_PIXELS", "check_image", "scan_real_works", "prepare_real_works", "run_stage", "numbers"]

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff"})
MAX_PIXELS = 64_000_000
"""Images with more pixels are refused as possible decompression bombs (8000 × 8000)."""


def check_image(path: Path, *, folder: Path | None = None) -> str | None:
    """Why ``path`` cannot serve as a real work, or ``None`` when it is a complete, decodable image.

    Refused: links that lead outside ``folder``, non-image files, empty, truncated or corrupt images,
    and images over :data:`MAX_PIXELS` pixels (decompression bombs). Nothing is decoded past the limit.
    """
    path = Path(path)
    if path.is_symlink() and folder is not None:
        target = path.resolve()
        try:
            target.relative_to(Path(folder).resolve())
        except ValueError:
            return f"is a symbolic link to {target}, outside the artist's folder"
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        return f"is not an image file (suffix '{path.suffix}'; expected one of {sorted(IMAGE_SUFFIXES)})"
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


def _artist_folder(root: Path, artist: str) -> Path | None:
    by_name, by_slug = root / artist if "/" not in artist and artist not in (".", "..") else None, root / slug(artist)
    found = [p for p in (by_name, by_slug) if p is not None and p.is_dir()]
    if len(found) == 2:
        raise AuditError(
            f"artist {artist!r} has two real-works folders: '{found[0].name}' and '{found[1].name}'",
            where=str(root),
            fix="merge them into one",
        )
    return found[0] if found else None


def scan_real_works(
    root: Path, artists: list[str], *, min_works: int = 1, max_works: int = 20, seed: int = 0, skip_bad_files: bool = False
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Find and check each artist's real works.

    Returns ``(works, excluded, skipped)``: ``works`` has ``artist, path, sha256, source`` (at most
    ``max_works`` per artist, a sample seeded by ``seed`` and the artist when there are more);
    ``excluded`` has ``artist, n_found, reason`` for artists with fewer than ``min_works`` usable works;
    ``skipped`` lists bad files (``artist, path, problem``), which stop the scan unless ``skip_bad_files``.
    """
    root = Path(root)
    if not root.is_dir():
        raise AuditError(
            f"real-works folder {root} does not exist",
            where="validation.real_works_dir",
            fix="create it with one subfolder per artist (see README, 'Real works'), or download them with "
            "helpers.selection.download_real_works",
        )
    works, excluded, skipped = [], [], []
    for artist in artists:
        folder = _artist_folder(root, artist)
        good: list[Path] = []
        for path in sorted(folder.iterdir()) if folder else []:
            if path.name.startswith(".") or (path.is_dir() and not path.is_symlink()):
                continue
            problem = check_image(path, folder=folder)
            if problem is None:
                good.append(path)
                continue
            if not skip_bad_files:
                raise AuditError(
                    f"real work {path} {problem}",
                    where=f"validation.real_works_dir, artist {artist!r}",
                    fix="remove or replace the file, or set validation.skip_bad_files: true to skip and list such files",
                )
            skipped.append({"artist": artist, "path": str(path), "problem": problem})
        if len(good) < min_works:
            reason = "no folder" if folder is None else f"{len(good)} usable real works (needs {min_works})"
            excluded.append({"artist": artist, "n_found": len(good), "reason": reason})
            continue
        if len(good) > max_works:
            rng = np.random.default_rng([seed, int(hashlib.sha256(artist.encode()).hexdigest()[:8], 16)])
            good = [good[i] for i in sorted(rng.choice(len(good), size=max_works, replace=False))]
        for path in good:
            works.append({"artist": artist, "path": str(path.resolve()), "sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "source": "real"})
    return (
        pd.DataFrame(works, columns=["artist", "path", "sha256", "source"]),
        pd.DataFrame(excluded, columns=["artist", "n_found", "reason"]),
        pd.DataFrame(skipped, columns=["artist", "path", "problem"]),
    )


def prepare_real_works(params, artists: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stage 01's part: scan the real-works folder and write ``real_works.csv`` and the excluded/skipped
    tables. Under ``validation.standin`` nothing is scanned (stage 02 makes the stand-ins)."""
    v, paths = params.validation, params.paths
    if v.standin:
        return pd.DataFrame(columns=["artist", "path", "sha256", "source"]), pd.DataFrame(columns=["artist", "n_found", "reason"])
    works, excluded, skipped = scan_real_works(
        resolve_path(v.real_works_dir), artists, min_works=v.min_works, max_works=v.max_works, seed=params.seed,
        skip_bad_files=v.skip_bad_files,
    )  # fmt: skip
    write_table(works, paths.real_manifest)
    write_table(excluded, paths.tables / "real_works_excluded.csv")
    write_table(skipped, paths.tables / "real_works_skipped.csv")
    return works, excluded


def _excluded(params, artists: list[str], validated: set[str]) -> pd.DataFrame:
    path = params.paths.tables / "real_works_excluded.csv"
    known = read_table(path) if path.is_file() else pd.DataFrame(columns=["artist", "n_found", "reason"])
    extra = [a for a in artists if a not in validated and a not in set(known["artist"])]
    rows = pd.DataFrame({"artist": extra, "n_found": 0, "reason": "no real works"})
    return pd.concat([known, rows], ignore_index=True)


def run_stage(params):
    """Validate every artist with real works; write validation.csv, own_other.csv, validation_excluded.csv.

    Returns ``(table, long, excluded)`` for the notebook's figures.
    """
    paths, v = params.paths, params.validation
    emb = read_embeddings(paths.embeddings)
    artists = emb.label_rows("artists")["name"].tolist()
    real, imit = emb.rows("real"), emb.rows("imitation", "artists")
    if real.empty:
        raise AuditError(
            "no real works were encoded, so nothing can be validated",
            where=str(paths.real_manifest),
            fix="put real works in validation.real_works_dir (one folder per artist), or use standin: true for a smoke run",
        )
    args = (
        emb.image_vectors[real.index], real["name"].to_numpy(),
        emb.image_vectors[imit.index], imit["name"].to_numpy(), artists,
    )  # fmt: skip
    table = stats.validation_table(*args, aggregate=v.aggregate, correction=v.correction, alpha=v.alpha)
    long = stats.own_other_similarities(*args, aggregate=v.aggregate)
    excluded = _excluded(params, artists, set(table["artist"]))
    write_table(table, paths.validation_csv)
    write_table(long, paths.tables / "own_other.csv")
    write_table(excluded, paths.tables / "validation_excluded.csv")
    return table, long, excluded


def numbers(params, table: pd.DataFrame, excluded: pd.DataFrame) -> dict:
    """The validation numbers for summary.json."""
    v = params.validation
    return {
        "fraction_significant": float(table["significant"].astype(bool).mean()) if len(table) else float("nan"),
        "alpha": v.alpha,
        "correction": v.correction,
        "aggregate": v.aggregate,
        "n_validated": int(len(table)),
        "n_excluded_validation": int(len(excluded)),
        "excluded_validation": excluded["artist"].tolist(),
        "real_works": "standin" if v.standin else "real",
    }

