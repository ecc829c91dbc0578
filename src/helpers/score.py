"""Score any image against a finished run's artists, in one call.

    python -m helpers.score IMAGE_OR_FOLDER... --run outputs/<run> [--config NAME] [--top-k 5] [--out scores.csv]

For each image, with the run's own encoder, by each method that applies to the configuration (``method``):

- ``zero-shot`` (an encoder with a text tower, a zero-shot configuration): the ``top_k`` artists whose label
  prompts are most similar to the image (``similarity``: the cosine to the label prompt);
- ``reference`` (every configuration whose artists have real works): the ``top_k`` artists whose reference
  works are nearest (``similarity``: s(x, a), centroid cosine or k-NN mean as the run's
  ``classification.reference_scoring``), with the run's seeded split of references and held-out works
  (:func:`helpers.references.split`; for a reference configuration, the works of ``reference_works.csv``).

and for each of those artists *a*, where the image falls among the run's imitations: s_a(x) = the aggregate
(``validation.aggregate``) of the cosine similarities of a's validation works (all of a's real works; for a
reference configuration the held-out ones, as stage 05 used) to the image — the validation score — as a
percentile of a's own imitations' scores (``own_percentile``) and of the other artists' imitations' scores
(``other_percentile``). A percentile counts the scores below s_a(x) plus half of those equal to it (within
1e-6), over all of them.

This measures resemblance in the encoder's space, nothing more: it is not proof of copying.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from . import attribution, schema
from .encoding import EmbeddingCache, encode_images, read_embeddings
from .errors import AuditError, exit_on_error
from .files import write_table
from .imagefiles import GENERATED_SUFFIXES, check_image
from .models import load_encoder
from .paths import RunPaths
from .schema import Configuration, Params
from .significance import aggregate_function
from .validation import read_own_other

__all__ = ["CAVEAT", "SCORE_COLUMNS", "score", "main"]

CAVEAT = "These scores measure resemblance in the encoder's space, not proof of copying."
SCORE_COLUMNS = (
    "image",
    "method",
    "rank",
    "artist",
    "similarity",
    "s_real",
    "own_percentile",
    "other_percentile",
    "n_real",
)


def _images(items: Sequence[str | Path]) -> list[Path]:
    found: list[Path] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            found += sorted(
                p for p in path.rglob("*") if p.suffix.lower() in GENERATED_SUFFIXES and not p.name.startswith(".")
            )
        elif path.exists():
            found.append(path)
        else:
            raise AuditError(f"{path} does not exist", where="score", fix="pass image files or folders of them")
    if not found:
        raise AuditError(
            f"no image among {[str(i) for i in items]}", where="score", fix="pass .png, .jpg, .jpeg or .webp files"
        )
    for path in found:
        problem = check_image(path, folder=path.parent, suffixes=GENERATED_SUFFIXES)
        if problem:
            raise AuditError(f"image {path} {problem}", where="score", fix="remove or replace the file")
    return found


def _run(run: str | Path, config: str | None) -> tuple[Params, RunPaths, Configuration]:
    paths = RunPaths(Path(run))
    if not paths.params_copy.is_file():
        raise AuditError(
            f"{paths.root} is not a run folder (no params.yaml)",
            where="--run",
            fix="pass outputs/<run> of a run that finished 05_validation",
        )
    params = schema.load(paths.params_copy, check_files=False)
    configs = {c.name: c for c in params.configurations}
    if config not in configs:
        if config is None and len(configs) > 1:
            raise AuditError(
                f"run {params.run} has {len(configs)} configurations",
                where="--config",
                fix=f"name one: {', '.join(str(n) for n in configs)}",
            )
        if config is not None:
            raise AuditError(
                f"run {params.run} has no configuration {config!r}",
                where="--config",
                fix=f"use one of: {', '.join(str(n) for n in configs)}",
            )
    return params, paths, configs[config]


def _percentile(values: np.ndarray, x: float) -> float:
    """Percent of ``values`` below ``x``, half of those equal counted (within 1e-6: float32 rounding)."""
    if not len(values):
        return float("nan")
    equal = np.isclose(values, x, rtol=0, atol=1e-6)
    return float(100 * ((values < x) & ~equal).sum() / len(values) + 50 * equal.sum() / len(values))


def _rankings(
    params: Params, chosen: Configuration, emb, vectors: np.ndarray
) -> dict[str, tuple[list[str], np.ndarray]]:
    """By method: the candidate artists and the image-by-artist similarities that rank them."""
    out: dict[str, tuple[list[str], np.ndarray]] = {}
    if chosen.method == "zero-shot":
        labels = emb.label_rows("artists")
        out["zero-shot"] = (labels["name"].tolist(), vectors @ emb.label_vectors[labels.index].T)
    names = emb.names("artists")
    real = emb.rows("real")
    if real.loc[real["name"].isin(names), "name"].nunique() >= 2:  # attribution.gallery's own requirement
        found = attribution.gallery(params, emb, names)
        out["reference"] = (found.candidates, found.scores(vectors))
    if not out:
        raise AuditError(
            f"configuration {chosen.name} attributes by reference works, but its run has real works of "
            "fewer than two artists",
            where="--config",
            fix="score against a run with real works",
        )
    return out


def score(images: Sequence[str | Path], run: str | Path, *, config: str | None = None, top_k: int = 5) -> pd.DataFrame:
    """The scores of ``images`` (files or folders) against the finished run folder ``run`` (see the module
    docstring): one row per image, method and rank, columns :data:`SCORE_COLUMNS`."""
    params, paths, chosen = _run(run, config)
    results = paths.config(chosen.name)
    emb = read_embeddings(results)
    scores = read_own_other(results)
    files = _images(images)
    settings = params.encoding
    encoder = load_encoder(
        chosen.encoder, device=settings.device, dtype=settings.dtype, index=settings.encoders.index(chosen.encoder)
    )
    if encoder.key != emb.encoder.get("key"):
        raise AuditError(
            f"the encoder loads as {encoder.key}, but the run embedded with {emb.encoder.get('key')}",
            where=str(results.embeddings),
            fix="score with the weights and precision the run used",
        )
    vectors = encode_images(
        encoder, files, batch_size=settings.batch_size, num_workers=0, cache=EmbeddingCache(encoder.key), progress=False
    )
    real = emb.rows("real")
    if chosen.method == "reference":  # stage 05 validated this configuration with the held-out works only
        real = attribution.gallery(params, emb, emb.names("artists")).held_out
    combine = aggregate_function(params.validation.aggregate)
    rows = []
    for method, (artists, similarity) in _rankings(params, chosen, emb, vectors).items():
        k = min(top_k, len(artists))
        for i, path in enumerate(files):
            for rank, j in enumerate(np.argsort(-similarity[i], kind="stable")[:k], start=1):
                artist = artists[j]
                mine = real[real["name"] == artist]
                s = float(combine(emb.image_vectors[mine.index] @ vectors[i])) if len(mine) else float("nan")
                own = scores[(scores["artist"] == artist) & (scores["kind"] == "own")]["similarity"].to_numpy()
                other = scores[(scores["artist"] == artist) & (scores["kind"] == "other")]["similarity"].to_numpy()
                rows.append(
                    (
                        str(path),
                        method,
                        rank,
                        artist,
                        float(similarity[i, j]),
                        s,
                        _percentile(own, s),
                        _percentile(other, s),
                        len(mine),
                    )
                )
    return pd.DataFrame(rows, columns=list(SCORE_COLUMNS))


@exit_on_error
def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m helpers.score", description=__doc__.split("\n\n")[0])
    ap.add_argument("images", nargs="+", help="image files or folders of them")
    ap.add_argument("--run", required=True, help="a finished run folder, e.g. outputs/demo")
    ap.add_argument("--config", help="the configuration of a sweep to score against")
    ap.add_argument("--top-k", type=int, default=5, help="artists per image (default 5)")
    ap.add_argument("--out", help="also write the table as CSV")
    ns = ap.parse_args(argv)
    table = score(ns.images, ns.run, config=ns.config, top_k=ns.top_k)
    shown = table.assign(
        similarity=table["similarity"].round(3),
        s_real=table["s_real"].round(3),
        own_percentile=table["own_percentile"].round(1),
        other_percentile=table["other_percentile"].round(1),
    )
    print(shown.to_string(index=False))
    print(f"note: {CAVEAT}")
    if ns.out:
        write_table(table, Path(ns.out))
        print(f"written: {ns.out}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
