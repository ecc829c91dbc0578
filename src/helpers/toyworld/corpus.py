"""The toy world's corpus: a LAION-like caption parquet, its 32×32 training images, and held-out real works.

    python -m helpers.toyworld corpus [--out DIR] [--seed 0] [--force]

writes (default ``data/toy_world/``, git-ignored)::

    captions.parquet           TEXT, URL (relative path of the image), AESTHETIC_SCORE — what stage 01 reads
    images/NNNNN.png           one training image per caption row
    real_works/<artist>/NNNN.png   20 works per artist, never used in training (stage 05's layout)
    real_works/origin.json     {"origin": "toyworld"}: what these works are (helpers.works)
    corpus.json                seed, recipe, counts and the content digest

Each artist has exactly ``caption_count`` captions naming them (one image each); 2,000 more captions name
nobody. Every image is drawn from its own generator, seeded by ``(seed, namespace, artist, index)``:
training works, real works and generic images use different namespaces, so no real work is ever a
training image. Deterministic from the seed: the same seed gives the same captions and pixels on any
machine. The digest (:func:`corpus_digest`) covers captions, URLs, scores and decoded pixels — not the
parquet or PNG bytes, which depend on library versions.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import AuditError
from ..paths import PROJECT_ROOT
from ..works import ORIGIN_FILE
from .artists import ARTISTS
from .captions import artist_caption, generic_caption
from .styles import render, render_generic

__all__ = [
    "DEFAULT_DIR",
    "RECIPE",
    "N_GENERIC",
    "REAL_PER_ARTIST",
    "Corpus",
    "build_corpus",
    "ensure_corpus",
    "read_corpus",
    "corpus_digest",
    "digest",
]

DEFAULT_DIR = PROJECT_ROOT / "data" / "toy_world"
RECIPE = 1
"""Bump when rendering or captions change: the shipped weights were trained on recipe ``RECIPE``."""
N_GENERIC = 2000
REAL_PER_ARTIST = 20
_NAMESPACE = {"train": 0, "real": 1, "generic": 2, "captions": 3, "order": 4}


@dataclass
class Corpus:
    """The training rows in memory: ``captions[i]`` describes ``images[i]`` (uint8, ``[N, 32, 32, 3]``);
    ``artists[i]`` is the artist it shows (``""`` for a generic image)."""

    captions: list[str]
    urls: list[str]
    scores: list[float]
    artists: list[str]
    images: np.ndarray


def _rng(seed: int, namespace: str, *keys: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, _NAMESPACE[namespace], *keys]))


def _make(seed: int) -> tuple[Corpus, dict[str, list[np.ndarray]]]:
    text_rng = _rng(seed, "captions")
    rows: list[tuple[str, str, np.ndarray]] = []
    for a_index, artist in enumerate(ARTISTS):
        for j in range(artist.caption_count):
            image = render(artist, _rng(seed, "train", a_index, j))
            rows.append((artist_caption(artist.name, text_rng), artist.name, image))
    for j in range(N_GENERIC):
        rows.append((generic_caption(text_rng), "", render_generic(_rng(seed, "generic", j))))
    order = _rng(seed, "order").permutation(len(rows))
    score_rng = _rng(seed, "order", 1)
    width = len(str(len(rows) - 1))
    corpus = Corpus(
        captions=[rows[i][0] for i in order],
        urls=[f"images/{k:0{width}d}.png" for k in range(len(rows))],
        scores=[round(float(s), 4) for s in score_rng.uniform(5.0, 8.0, size=len(rows))],
        artists=[rows[i][1] for i in order],
        images=np.stack([rows[i][2] for i in order]),
    )
    real = {
        artist.name: [render(artist, _rng(seed, "real", a_index, j)) for j in range(REAL_PER_ARTIST)]
        for a_index, artist in enumerate(ARTISTS)
    }
    return corpus, real


def digest(corpus: Corpus, real: dict[str, list[np.ndarray]]) -> str:
    """The content digest of a corpus in memory: captions, URLs, scores and pixels, then the real works."""
    h = hashlib.sha256(f"toy-world corpus recipe {RECIPE}\n".encode())
    for text, url, score, image in zip(corpus.captions, corpus.urls, corpus.scores, corpus.images, strict=True):
        h.update(f"{text}\x00{url}\x00{score!r}\x00".encode())
        h.update(np.ascontiguousarray(image, dtype=np.uint8).tobytes())
    for name in sorted(real):
        for j, image in enumerate(real[name]):
            h.update(f"{name}\x00{_real_file(j)}\x00".encode())
            h.update(np.ascontiguousarray(image, dtype=np.uint8).tobytes())
    return h.hexdigest()


def _real_file(j: int) -> str:
    return f"{j:04d}.png"


def _png(image: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(image, mode="RGB").save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def build_corpus(out: str | os.PathLike = DEFAULT_DIR, *, seed: int = 0) -> dict:
    """Write the corpus to ``out`` (replacing what is there) and return its record (``corpus.json``)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = Path(out)
    corpus, real = _make(seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{out.name}-", dir=out.parent))
    try:
        os.chmod(tmp, 0o755)
        (tmp / "images").mkdir()
        for url, image in zip(corpus.urls, corpus.images, strict=True):
            (tmp / url).write_bytes(_png(image))
        for name, images in real.items():
            folder = tmp / "real_works" / name
            folder.mkdir(parents=True)
            for j, image in enumerate(images):
                (folder / _real_file(j)).write_bytes(_png(image))
        _mark_real_works(tmp / "real_works")
        table = pa.table({
            "TEXT": pa.array(corpus.captions, type=pa.string()),
            "URL": pa.array(corpus.urls, type=pa.string()),
            "AESTHETIC_SCORE": pa.array(corpus.scores, type=pa.float64()),
        })  # fmt: skip
        pq.write_table(table, tmp / "captions.parquet")
        record = {
            "recipe": RECIPE,
            "seed": seed,
            "n_captions": len(corpus.captions),
            "n_generic": N_GENERIC,
            "real_per_artist": REAL_PER_ARTIST,
            "caption_counts": {a.name: a.caption_count for a in ARTISTS},
            "digest": digest(corpus, real),
        }
        (tmp / "corpus.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        if out.exists():
            shutil.rmtree(out)
        os.rename(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return record


def ensure_corpus(out: str | os.PathLike = DEFAULT_DIR, *, seed: int = 0) -> dict:
    """The record of the corpus at ``out``, building it first unless one of this recipe and seed is there."""
    path = Path(out) / "corpus.json"
    if path.is_file():
        record = json.loads(path.read_text(encoding="utf-8"))
        if record.get("recipe") == RECIPE and record.get("seed") == seed:
            _mark_real_works(Path(out) / "real_works")  # corpora built before works carried their origin
            return record
    return build_corpus(out, seed=seed)


def _mark_real_works(folder: Path) -> None:
    """Say what the toy world's real works are (:mod:`helpers.works`): held-out draws of its styles."""
    marker = folder / ORIGIN_FILE
    if folder.is_dir() and not marker.is_file():
        marker.write_text(json.dumps({"origin": "toyworld", "note": "held-out works drawn by the toy world's "
                                      "generator of styles, never trained on"}) + "\n", encoding="utf-8")  # fmt: skip


def read_corpus(folder: str | os.PathLike = DEFAULT_DIR) -> tuple[Corpus, dict[str, list[np.ndarray]]]:
    """Read a built corpus back from its files: the training rows and the real works by artist."""
    import pyarrow.parquet as pq
    from PIL import Image

    folder = Path(folder)
    if not (folder / "captions.parquet").is_file():
        raise AuditError(
            f"{folder} holds no toy-world corpus (no captions.parquet)",
            where="helpers.toyworld",
            fix="build it with 'python -m helpers.toyworld corpus'",
        )
    table = pq.read_table(folder / "captions.parquet").to_pydict()
    names = sorted((a.name for a in ARTISTS), key=len, reverse=True)
    lowered = [n.lower() for n in names]
    artists = [next((n for n, low in zip(names, lowered, strict=True) if low in t.lower()), "") for t in table["TEXT"]]
    images = np.stack([np.asarray(Image.open(folder / url).convert("RGB")) for url in table["URL"]])
    real = {
        a.name: [
            np.asarray(Image.open(p).convert("RGB")) for p in sorted((folder / "real_works" / a.name).glob("*.png"))
        ]
        for a in ARTISTS
    }
    corpus = Corpus(table["TEXT"], table["URL"], table["AESTHETIC_SCORE"], artists, images)
    return corpus, real


def corpus_digest(folder: str | os.PathLike = DEFAULT_DIR) -> str:
    """The content digest of the corpus in ``folder``, recomputed from its files (captions and pixels)."""
    return digest(*read_corpus(folder))
