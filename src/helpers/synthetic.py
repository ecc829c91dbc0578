"""A small LAION-like caption parquet with planted mention counts: the smoke profile's metadata and a test
fixture (real LAION metadata is not available offline)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .captions import normalize_text, occurs, strip_accents
from .errors import AuditError
from .names import clean_name, name_key, validate_names

__all__ = ["make_synthetic_metadata"]

_VOCAB = (
    "portrait landscape castle forest river mountain city night sunset ocean dragon knight warrior princess "
    "robot spaceship flower garden village street market temple ruins desert snow storm cloud sky moon star "
    "cat dog horse bird fox wolf owl tree lake bridge tower ship train car house room window door lamp "
    "painting illustration drawing sketch concept art poster photo render cover study character environment "
    "red blue green golden dark bright soft vivid misty ancient futuristic cozy epic quiet detailed minimal "
    "風景 城 森林 пейзаж замок лес منظر قلعة غابة"
).split()
_TEMPLATES = (
    "{subject}, digital painting by {name}, trending on artstation",
    "{name} - {subject}",
    "art by {name}: {subject}",
    "{subject} in the style of {name}",
    "\u201c{subject}\u201d by {name}, 4k",
    "{subject} | {name} | illustration",
    "{name}风格的{subject}",
    "{subject} ({name})",
)
_PLANTED_MIN_SCORE = 6.5


def make_synthetic_metadata(
    path: str | os.PathLike,
    names: Iterable[str],
    *,
    seed: int = 0,
    counts: dict[str, int] | None = None,
    n_noise: int = 2000,
) -> dict[str, int]:
    """Write a small LAION-like parquet (``TEXT, URL, AESTHETIC_SCORE, WIDTH, HEIGHT``) with planted
    mentions, and return ``{name: captions mentioning it}``.

    ``counts`` gives the planted captions per name; by default every third name gets 5–59 (below the paper's
    threshold of 100) and the others 110–199. Each planted caption names one artist once, in a varied case
    and with or without accents, inside a template; a name that contains another name at word boundaries
    (e.g. "Ross Tran" and "Tran") adds its captions to the inner name's count. ``n_noise`` captions name
    nobody (about 1% of them are null). Planted rows have ``AESTHETIC_SCORE >= 6.5``, so a threshold up to
    6.5 keeps every planted count; noise scores lie in [4.5, 8). URLs point at ``http://127.0.0.1/``.
    Deterministic given ``seed``.
    """
    names = validate_names(list(names), where="make_synthetic_metadata")
    rng = np.random.default_rng(seed)
    if counts is None:
        planted = [int(rng.integers(5, 60)) if i % 3 == 2 else int(rng.integers(110, 200)) for i in range(len(names))]
    else:
        by_key = {name_key(clean_name(k)): v for k, v in counts.items()}
        planted = []
        for n in names:
            v = by_key.get(name_key(n), 0)
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 0:
                raise AuditError(
                    f"planted count for {n!r} must be a whole number >= 0 (got {v!r})",
                    where="make_synthetic_metadata",
                )
            planted.append(int(v))
    patterns = [normalize_text(n) for n in names]
    fixed = normalize_text(" | ".join([*_VOCAB, *_TEMPLATES]))
    for n, p in zip(names, patterns, strict=True):
        if occurs(p, fixed):
            raise AuditError(
                f"name {n!r} occurs in the synthetic vocabulary",
                where="make_synthetic_metadata",
                fix="plant counts with your own metadata",
            )

    def subject() -> str:
        return " ".join(rng.choice(_VOCAB, size=int(rng.integers(2, 6))).tolist())

    texts: list[str | None] = []
    scores: list[float] = []
    for n, k in zip(names, planted, strict=True):
        variants = [v for v in (n, n.lower(), n.upper(), strip_accents(n)) if normalize_text(v) == normalize_text(n)]
        for _ in range(k):
            template = _TEMPLATES[int(rng.integers(len(_TEMPLATES)))]
            texts.append(template.format(name=variants[int(rng.integers(len(variants)))], subject=subject()))
            scores.append(float(rng.uniform(_PLANTED_MIN_SCORE, 8.0)))
    for _ in range(n_noise):
        texts.append(None if rng.random() < 0.01 else subject())
        scores.append(float(rng.uniform(4.5, 8.0)))
    order = rng.permutation(len(texts))
    n_rows = len(texts)
    table = pa.table(
        {
            "TEXT": pa.array([texts[i] for i in order], type=pa.string()),
            "URL": pa.array([f"http://127.0.0.1/laion/{i:07d}.jpg" for i in range(n_rows)], type=pa.string()),
            "AESTHETIC_SCORE": pa.array([scores[i] for i in order], type=pa.float64()),
            "WIDTH": pa.array(rng.choice([512, 640, 768, 1024], size=n_rows), type=pa.int64()),
            "HEIGHT": pa.array(rng.choice([512, 640, 768, 1024], size=n_rows), type=pa.int64()),
        }
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    result = {}
    for n, p in zip(names, patterns, strict=True):
        result[n] = sum(k for q, k in zip(patterns, planted, strict=True) if q == p or occurs(p, q))
    return result
