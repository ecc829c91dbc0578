"""Stage 04's second method: each imitation attributed to the artist whose reference works are nearest
(an encoder with ``method: reference``), composed from :mod:`helpers.references` with a run's params.

Which real works are references and which are held out is :func:`helpers.references.split` (stage 05
validates with the held-out ones, the ceiling is measured on them); ``tables/reference_works.csv`` lists the
references (``artist, path``, the path as in ``embeddings/images.csv``), so the attribution can be recomputed
from the saved embeddings alone. The random-name imitations have no references of their own, so they have no
accuracy here: they are attributed among the artists, and how they spread over them (``attraction``) is the
baseline — no artist should attract them far beyond chance 1/K. The deranged-references control gives each
artist another's references and counts how often the per-artist test still calls it significant.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import references
from .embeddings import Embeddings
from .errors import AuditError
from .schema import Params

__all__ = ["Attributed", "Gallery", "attribute", "gallery", "NO_BASELINE", "REFERENCE_COLUMNS"]

REFERENCE_COLUMNS = references.REFERENCE_COLUMNS
NO_BASELINE = (
    "reference attribution: random names have no works to serve as references, so they have no accuracy; "
    "their imitations are attributed among the artists instead (see attraction)"
)


@dataclass(frozen=True)
class Attributed:
    """One configuration's attribution by reference works."""

    names: list[str]
    """The candidate artists (those with references), in label order."""
    predictions: pd.DataFrame
    """The artists' imitations, in stage 04's prediction columns (``method`` = ``reference``)."""
    held_names: np.ndarray
    held_correct: np.ndarray
    """The held-out real works' artists and whether each was attributed to its own artist (the ceiling)."""
    numbers: dict
    attraction: dict
    """How the random names' imitations spread over the artists (:func:`helpers.references.attraction`)."""
    tables: dict[str, pd.DataFrame]


@dataclass(frozen=True)
class Gallery:
    """The references of a configuration's artists, ready to score queries against."""

    candidates: list[str]
    """The artists with references, in label order."""
    references: pd.DataFrame
    """The reference rows of ``embeddings/images.csv`` (their index is the embedding row)."""
    held_out: pd.DataFrame
    """The real works that are not references (what stage 05 validates with)."""
    vectors: np.ndarray
    scoring: str
    knn: int

    def scores(self, queries: np.ndarray) -> np.ndarray:
        """s(q, a) of each query vector for each candidate (:func:`helpers.references.artist_scores`)."""
        return references.artist_scores(
            queries,
            self.vectors,
            self.references["name"].to_numpy(),
            self.candidates,
            scoring=self.scoring,
            knn=self.knn,
        )


def gallery(params: Params, emb: Embeddings, names: list[str]) -> Gallery:
    """The seeded split of the real works of ``names`` (:func:`helpers.references.split`) as a gallery;
    refused when fewer than two artists have references."""
    settings = params.classification
    real = emb.rows("real")
    real = real[real["name"].isin(names)]
    is_ref = references.split(real["name"], real["sha256"], share=settings.reference_share, seed=params.seed)
    refs, held = real[is_ref], real[~is_ref]
    with_refs = set(refs["name"])
    candidates = [n for n in names if n in with_refs]
    if len(candidates) < 2:
        raise AuditError(
            f"attribution by reference works needs real works of at least two artists; "
            f"{len(candidates)} of {len(names)} have any",
            where="validation.real_works_dir",
            fix="add real works (one folder per artist), or use a zero-shot encoder",
        )
    return Gallery(
        candidates, refs, held, emb.image_vectors[refs.index], settings.reference_scoring, settings.reference_knn
    )


def attribute(params: Params, emb: Embeddings, names: list[str]) -> Attributed:
    """Attribute the imitations of ``names`` (and the random names' imitations) by reference works."""
    settings, validation = params.classification, params.validation
    found = gallery(params, emb, names)
    refs, held, candidates = found.references, found.held_out, found.candidates
    with_refs = set(candidates)
    ref_vectors, ref_names = found.vectors, refs["name"].to_numpy()

    def score(rows: pd.DataFrame) -> np.ndarray:
        return found.scores(emb.image_vectors[rows.index])

    position = {n: i for i, n in enumerate(candidates)}
    images = emb.rows("imitation", "artists")
    images = images[images["name"].isin(with_refs)]
    scores = score(images)
    idx, top = references.ranked(scores, min(settings.top_k, len(candidates)))
    true = images["name"].map(position).to_numpy()
    predictions = pd.DataFrame(
        {
            "method": "reference",
            "group": "artists",
            "name": images["name"].to_numpy(),
            "image": images["path"].to_numpy(),
            "predicted": np.asarray(candidates, dtype=object)[idx[:, 0]],
            "correct": idx[:, 0] == true,
            "score": top[:, 0].astype(np.float32),
            "in_top_k": (idx == true[:, None]).any(axis=1),
        }
    )
    held_idx = references.ranked(score(held), 1)[0][:, 0] if len(held) else np.empty(0, dtype=int)
    held_correct = held_idx == held["name"].map(position).to_numpy()

    retrieval, per_artist = references.retrieval(
        emb.image_vectors[images.index], images["name"].to_numpy(), ref_vectors, ref_names, settings.retrieval_k
    )
    n_per = np.bincount(true, minlength=len(candidates))
    correct_per = np.bincount(true[predictions["correct"].to_numpy()], minlength=len(candidates))
    test = {"alpha": validation.alpha, "correction": validation.artist_level_correction}
    significant = references.binomial_significance(
        correct_per[n_per > 0], n_per[n_per > 0], 1 / len(candidates), **test
    )
    random = emb.rows("imitation", "random_names")
    drawn = np.argmax(score(random), axis=1) if len(random) else np.empty(0, dtype=int)
    pulled, pull_table = references.attraction(drawn, candidates)
    numbers = {
        "method": "reference",
        "scoring": settings.reference_scoring,
        "knn": settings.reference_knn if settings.reference_scoring == "knn" else None,
        "reference_share": settings.reference_share,
        "split_seed": params.seed,
        "n_references": int(len(refs)),
        "n_held_out": int(len(held)),
        "n_candidates": len(candidates),
        "excluded_without_references": [n for n in names if n not in with_refs],
        **retrieval,
        "roc_auc": references.roc_auc(scores, true),
        "fraction_significant_binomial": float(significant.mean()),
        "significance_test": (
            f"one-sided exact binomial of each artist's accuracy vs 1/K, {test['correction']} across artists"
        ),
        "control": references.deranged_control(scores, true, **test),
    }
    tables = {
        "reference_works": refs[["name", "path"]].rename(columns={"name": "artist"}).reset_index(drop=True),
        "retrieval": per_artist,
        "attraction": pull_table,
    }
    return Attributed(candidates, predictions, held["name"].to_numpy(), held_correct, numbers, pulled, tables)
