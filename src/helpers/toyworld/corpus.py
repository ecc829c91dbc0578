"""The toy world's corpus: a LAION-like caption parquet, its 32×32 training images, and held-out real works.

    python -m helpers.toyworld corpus [--world toy] [--out DIR] [--seed 0] [--force]

writes (default the world's ``corpus_dir``, ``data/toy_world/`` for the easy world; git-ignored)::

    captions.parquet           TEXT, URL (relative path of the image), AESTHETIC_SCORE — what stage 01 reads;
                               SEEN_BY (both, generator, encoder) when a model does not train on every row
    images/NNNNN.png           one training image per caption row
    real_works/<artist>/NNNN.png   20 works per artist, never used in training (stage 05's layout)
    real_works/origin.json     {"origin": "toyworld"}: what these works are (helpers.works)
    corpus.json                seed, recipe, counts and the content digest

Each artist has exactly ``caption_count`` captions naming them (one image each, in the style of the artist,
or of the ghost an impostor's name is attached to); the world's ``n_generic`` more captions name nobody. Every image is drawn from its own generator, seeded by ``(seed, namespace, artist, index)``:
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
from ..works import ORIGIN_FILE
from .captions import artist_caption, generic_caption
from .styles import render, render_generic
from .world import World, load_world

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

_TOY = load_world("toy")
DEFAULT_DIR = _TOY.path("corpus_dir")
RECIPE = _TOY.recipe
"""Bump (in the world file) when rendering or captions change: the shipped weights were trained on it."""
N_GENERIC = _TOY.n_generic
REAL_PER_ARTIST = _TOY.real_per_artist
_NAMESPACE = {"train": 0, "real": 1, "generic": 2, "captions": 3, "order": 4}
_CAPTIONS, _IMAGES, _REAL_WORKS = "captions.parquet", "images", "real_works"
"""What :func:`build_corpus` writes beside ``corpus.json``; the captions' URLs name files under ``images/``."""


@dataclass
class Corpus:
    """The training rows in memory: ``captions[i]`` describes ``images[i]`` (uint8, ``[N, 32, 32, 3]``);
    ``artists[i]`` is the artist it names (``""`` for a generic image); ``seen_by[i]`` which models train
    on it (``both``, ``generator`` or ``encoder``)."""

    captions: list[str]
    urls: list[str]
    scores: list[float]
    artists: list[str]
    images: np.ndarray
    seen_by: list[str] | None = None

    def rows(self, model: str) -> np.ndarray:
        """The indices of the rows ``model`` (``generator`` or ``encoder``) trains on."""
        seen = self.seen_by or ["both"] * len(self.captions)
        return np.array([i for i, s in enumerate(seen) if s in ("both", model)], dtype=np.int64)


def _rng(seed: int, namespace: str, *keys: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, _NAMESPACE[namespace], *keys]))


def _seen_by(world: World, artist, j: int) -> str:
    if artist.seen_by != "both":
        return artist.seen_by
    return "both" if j < round(world.encoder_share * artist.caption_count) else "generator"


def _make(seed: int, world: World) -> tuple[Corpus, dict[str, list[np.ndarray]]]:
    text_rng = _rng(seed, "captions")
    ghosts = {g.name: g for g in world.ghosts}
    rows: list[tuple[str, str, np.ndarray, str]] = []
    for a_index, artist in enumerate(world.all_artists):
        style = ghosts.get(artist.trained_as, artist)  # an impostor's name is attached to a ghost's style
        for j in range(artist.caption_count):
            image = render(style, _rng(seed, "train", a_index, j), world.variation)
            caption = artist_caption(artist.name, text_rng, world.artist_forms)
            rows.append((caption, artist.name, image, _seen_by(world, artist, j)))
    for j in range(world.n_generic):
        rows.append(
            (generic_caption(text_rng, world.generic_forms), "", render_generic(_rng(seed, "generic", j)), "both")
        )
    order = _rng(seed, "order").permutation(len(rows))
    score_rng = _rng(seed, "order", 1)
    width = len(str(len(rows) - 1))
    corpus = Corpus(
        captions=[rows[i][0] for i in order],
        urls=[f"{_IMAGES}/{k:0{width}d}.png" for k in range(len(rows))],
        scores=[round(float(s), 4) for s in score_rng.uniform(5.0, 8.0, size=len(rows))],
        artists=[rows[i][1] for i in order],
        images=np.stack([rows[i][2] for i in order]),
        seen_by=[rows[i][3] for i in order],
    )
    real = {
        artist.name: [
            render(artist, _rng(seed, "real", a_index, j), world.variation) for j in range(world.real_per_artist)
        ]
        for a_index, artist in enumerate(world.all_artists)
    }
    return corpus, real


def digest(corpus: Corpus, real: dict[str, list[np.ndarray]], world: World = _TOY) -> str:
    """The content digest of a corpus in memory: captions, URLs, scores, who trains on each row (when not
    both models) and pixels, then the real works."""
    h = hashlib.sha256(world.digest_header.encode())
    seen = corpus.seen_by or ["both"] * len(corpus.captions)
    for text, url, score, image, by in zip(
        corpus.captions, corpus.urls, corpus.scores, corpus.images, seen, strict=True
    ):
        h.update(f"{text}\x00{url}\x00{score!r}\x00".encode())
        if by != "both":
            h.update(f"\x01{by}\x00".encode())
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


def build_corpus(out: str | os.PathLike | None = None, *, seed: int = 0, world: World = _TOY) -> dict:
    """Write ``world``'s corpus to ``out`` (default the world's ``corpus_dir``; what is there is replaced) and
    return its record (``corpus.json``)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = Path(out) if out is not None else world.path("corpus_dir")
    corpus, real = _make(seed, world)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{out.name}-", dir=out.parent))
    try:
        os.chmod(tmp, 0o755)
        (tmp / _IMAGES).mkdir()
        for url, image in zip(corpus.urls, corpus.images, strict=True):
            (tmp / url).write_bytes(_png(image))
        for name, images in real.items():
            folder = tmp / _REAL_WORKS / name
            folder.mkdir(parents=True)
            for j, image in enumerate(images):
                (folder / _real_file(j)).write_bytes(_png(image))
        _mark_real_works(tmp / _REAL_WORKS)
        columns = {
            "TEXT": pa.array(corpus.captions, type=pa.string()),
            "URL": pa.array(corpus.urls, type=pa.string()),
            "AESTHETIC_SCORE": pa.array(corpus.scores, type=pa.float64()),
        }
        if any(by != "both" for by in corpus.seen_by):
            columns["SEEN_BY"] = pa.array(corpus.seen_by, type=pa.string())  # which model trains on the row
        pq.write_table(pa.table(columns), tmp / _CAPTIONS)
        record = {
            "world": world.name,
            "recipe": world.recipe,
            "seed": seed,
            "n_captions": len(corpus.captions),
            "n_generic": world.n_generic,
            "real_per_artist": world.real_per_artist,
            "caption_counts": {a.name: a.caption_count for a in world.all_artists},
            "digest": digest(corpus, real, world),
        }
        (tmp / "corpus.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        if out.exists():
            shutil.rmtree(out)
        os.rename(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return record


def ensure_corpus(out: str | os.PathLike | None = None, *, seed: int = 0, world: World = _TOY) -> dict:
    """The record of ``world``'s corpus at ``out``, building it first unless one of this world, recipe and seed
    is there, with its captions, images and real works (a folder missing some of them is built again)."""
    out = Path(out) if out is not None else world.path("corpus_dir")
    path = out / "corpus.json"
    if path.is_file() and all((out / part).exists() for part in (_CAPTIONS, _IMAGES, _REAL_WORKS)):
        record = json.loads(path.read_text(encoding="utf-8"))
        if (record.get("world", "toy"), record.get("recipe"), record.get("seed")) == (world.name, world.recipe, seed):
            _mark_real_works(out / _REAL_WORKS)  # corpora built before works carried their origin
            return record
    return build_corpus(out, seed=seed, world=world)


def _mark_real_works(folder: Path) -> None:
    """Say what the toy world's real works are (:mod:`helpers.works`): held-out draws of its styles."""
    marker = folder / ORIGIN_FILE
    if folder.is_dir() and not marker.is_file():
        marker.write_text(
            json.dumps(
                {
                    "origin": "toyworld",
                    "note": "held-out works drawn by the toy world's generator of styles, never trained on",
                }
            )
            + "\n",
            encoding="utf-8",
        )


def read_corpus(
    folder: str | os.PathLike | None = None, world: World = _TOY
) -> tuple[Corpus, dict[str, list[np.ndarray]]]:
    """Read a built corpus of ``world`` back from its files: the training rows and the real works by artist."""
    import pyarrow.parquet as pq
    from PIL import Image

    folder = Path(folder) if folder is not None else world.path("corpus_dir")
    if not (folder / _CAPTIONS).is_file():
        raise AuditError(
            f"{folder} holds no toy-world corpus (no captions.parquet)",
            where="helpers.toyworld",
            fix="build it with 'python -m helpers.toyworld corpus'",
        )
    table = pq.read_table(folder / _CAPTIONS).to_pydict()
    names = sorted((a.name for a in world.all_artists), key=len, reverse=True)
    lowered = [n.lower() for n in names]
    artists = [next((n for n, low in zip(names, lowered, strict=True) if low in t.lower()), "") for t in table["TEXT"]]
    images = np.stack([np.asarray(Image.open(folder / url).convert("RGB")) for url in table["URL"]])
    real = {
        a.name: [
            np.asarray(Image.open(p).convert("RGB")) for p in sorted((folder / _REAL_WORKS / a.name).glob("*.png"))
        ]
        for a in world.all_artists
    }
    seen = table.get("SEEN_BY", ["both"] * len(table["TEXT"]))
    corpus = Corpus(table["TEXT"], table["URL"], table["AESTHETIC_SCORE"], artists, images, seen)
    return corpus, real


def corpus_digest(folder: str | os.PathLike | None = None, world: World = _TOY) -> str:
    """The content digest of ``world``'s corpus in ``folder``, recomputed from its files (captions and pixels)."""
    return digest(*read_corpus(folder, world), world)
