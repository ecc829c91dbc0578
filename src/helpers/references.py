"""Attribution by reference works: the numbers an image-only descriptor (CSD, DINOv2, SigLIP's image tower)
gives — each imitation attributed to the artist whose reference works are nearest, and the retrieval metrics
the field reports. Pure functions of vectors and names; stage 04 composes them, stage 05 uses :func:`split`.

**The split.** Each artist's real works are divided once, by a seeded draw, into *references* (the gallery
attribution uses) and *held-out* works (what stage 05 validates with and the ceiling is measured on); the
two never share an image. An artist with ``n ≥ 2`` works gets ``min(n − 1, max(1, ⌊share·n⌋))``
references; an artist with one work has it as its reference and nothing held out. The draw orders an
artist's works by SHA-256 of ``"<seed>:<artist>:<image sha256>"``, so it depends on the works themselves,
not on their order in a table.

**Scores.** ``centroid``: s(q, a) = cos(q, c_a), c_a the normalised mean of artist a's reference vectors;
``knn``: s(q, a) = the mean of the ``knn`` largest cos(q, r) over a's references (all of them when fewer).
The attribution is argmax_a s(q, a), ties to the artist listed first.

**Retrieval** (query: an imitation; gallery: every reference work; relevant: the references of the artist
in the query's prompt, R of them), with the gallery ranked by cosine, ties to the earlier reference:
recall@k = 1 when a relevant work is among the first k, else 0; AP@k = (1 / min(k, R)) Σ_{i≤k} P(i)·rel(i)
with P(i) the share of relevant works among the first i; each averaged over queries (``recall_at_k``,
``map_at_k``). **ROC-AUC** of own vs other: the probability that s(q, own artist) exceeds s(q', b) for an
imitation q' and another artist b ≠ artist of q' (ties count one half), over all such pairs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as sps

from . import significance, stats
from .errors import AuditError
from .files import sha256_bytes

__all__ = [
    "REFERENCE_COLUMNS",
    "split",
    "artist_scores",
    "ranked",
    "retrieval",
    "roc_auc",
    "attraction",
    "binomial_significance",
    "deranged_control",
]

REFERENCE_COLUMNS = ("artist", "path")


def split(names: pd.Series, hashes: pd.Series, *, share: float, seed: int) -> np.ndarray:
    """Which of the real works (their artists ``names`` and image ``hashes``, aligned) are references:
    a boolean array, the rest held out (see the module docstring for the rule)."""
    names, hashes = pd.Series(names).reset_index(drop=True), pd.Series(hashes).reset_index(drop=True)
    if not 0 < share < 1:
        raise AuditError(
            f"reference share {share} is outside (0, 1)", where="classification.reference_share", fix="use e.g. 0.5"
        )
    out = np.zeros(len(names), dtype=bool)
    for artist, rows in names.groupby(names, sort=False).groups.items():
        rows = list(rows)
        n = len(rows)
        n_ref = 1 if n == 1 else min(n - 1, max(1, int(np.floor(share * n))))
        order = sorted(rows, key=lambda i: sha256_bytes(f"{seed}:{artist}:{hashes[i]}".encode()))
        out[order[:n_ref]] = True
    return out


def artist_scores(
    queries: np.ndarray, refs: np.ndarray, ref_names, artists: list[str], *, scoring: str = "centroid", knn: int = 3
) -> np.ndarray:
    """s(q, a) for every query row and artist in ``artists`` (float ``[N, K]``; see the module docstring)."""
    ref_names = np.asarray(ref_names, dtype=object)
    q = stats.normalize(np.asarray(queries, dtype=np.float64))
    r = stats.normalize(np.asarray(refs, dtype=np.float64))
    missing = [a for a in artists if not (ref_names == a).any()]
    if missing:
        raise AuditError(
            f"{len(missing)} artist(s) have no reference works, e.g. {missing[0]!r}",
            fix="give every artist at least one real work (validation.real_works_dir)",
        )
    out = np.empty((len(q), len(artists)))
    for j, artist in enumerate(artists):
        mine = r[ref_names == artist]
        if scoring == "centroid":
            out[:, j] = q @ stats.normalize(mine.mean(axis=0, keepdims=True))[0]
        elif scoring == "knn":
            sims = q @ mine.T
            k = min(knn, mine.shape[0])
            out[:, j] = -np.sort(-sims, axis=1)[:, :k].mean(axis=1)
        else:
            raise AuditError(
                f"unknown reference scoring {scoring!r}",
                where="classification.reference_scoring",
                fix="use centroid or knn",
            )
    return out


def ranked(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best artists of each row, best first, ties to the artist listed first (:func:`stats.best_k`
    on a copy, so ``scores`` stays as it is)."""
    return stats.best_k(np.array(scores, dtype=np.float64), k)


def retrieval(
    queries: np.ndarray, query_names, refs: np.ndarray, ref_names, ks: list[int]
) -> tuple[dict, pd.DataFrame]:
    """recall@k and mAP@k (module docstring) over all queries, and per artist: ``({"recall_at_<k>": …,
    "map_at_<k>": …}, table artist, n_queries, recall_at_<k>…, map_at_<k>…)``."""
    query_names = np.asarray(query_names, dtype=object)
    ref_names = np.asarray(ref_names, dtype=object)
    sims = stats.normalize(np.asarray(queries, np.float64)) @ stats.normalize(np.asarray(refs, np.float64)).T
    order = np.argsort(-sims, axis=1, kind="stable")
    relevant = ref_names[order] == query_names[:, None]
    n_relevant = (ref_names[None, :] == query_names[:, None]).sum(axis=1)
    hits = np.cumsum(relevant, axis=1)
    precision = hits / np.arange(1, relevant.shape[1] + 1)
    per_query = {}
    for k in ks:
        kk = min(k, relevant.shape[1])
        per_query[f"recall_at_{k}"] = relevant[:, :kk].any(axis=1).astype(float)
        per_query[f"map_at_{k}"] = (precision[:, :kk] * relevant[:, :kk]).sum(axis=1) / np.minimum(k, n_relevant)
    table = pd.DataFrame({"artist": query_names, **per_query})
    by = table.groupby("artist", sort=False)
    per_artist = by.mean().reset_index()
    per_artist.insert(1, "n_queries", by.size().to_numpy())
    return {key: float(v.mean()) for key, v in per_query.items()}, per_artist


def roc_auc(scores: np.ndarray, true_idx: np.ndarray) -> float:
    """ROC-AUC of own-artist scores against other-artist scores (module docstring), ties one half."""
    own_mask = np.zeros(scores.shape, dtype=bool)
    own_mask[np.arange(len(scores)), true_idx] = True
    own, other = scores[own_mask], scores[~own_mask]
    if not len(own) or not len(other):
        return float("nan")
    ranks = sps.rankdata(np.concatenate([own, other]))
    u = ranks[: len(own)].sum() - len(own) * (len(own) + 1) / 2
    return float(u / (len(own) * len(other)))


def attraction(pred_idx: np.ndarray, artists: list[str]) -> tuple[dict, pd.DataFrame]:
    """How the random-name imitations, attributed among the artists, spread over them: the share each
    artist attracts, the largest share beside chance 1/K, and the chi-square test of a uniform spread
    (images of one name are not independent, so read its p as descriptive)."""
    counts = np.bincount(pred_idx, minlength=len(artists))
    n = int(counts.sum())
    table = pd.DataFrame({"artist": artists, "n_images": counts, "share": counts / max(n, 1)})
    top = int(np.argmax(counts)) if n else 0
    p = float(sps.chisquare(counts).pvalue) if n and len(artists) > 1 else None
    return {
        "n_images": n,
        "chance": 1 / len(artists),
        "max_share": float(counts[top] / n) if n else None,
        "max_share_artist": artists[top] if n else None,
        "uniform_p": p,
    }, table


def binomial_significance(
    correct_per_artist: np.ndarray, n_per_artist: np.ndarray, chance: float, *, alpha: float, correction: str
) -> np.ndarray:
    """Per artist: is its attribution accuracy above ``chance``? One-sided exact binomial p-values, adjusted
    across artists by ``correction``; returns the significant flags."""
    p = np.array(
        [
            sps.binomtest(int(c), int(n), chance, alternative="greater").pvalue
            for c, n in zip(correct_per_artist, n_per_artist, strict=True)
        ]
    )
    return significance.adjust_pvalues(p, method=correction, alpha=alpha)[1]


def deranged_control(scores: np.ndarray, true_idx: np.ndarray, *, alpha: float, correction: str) -> dict:
    """The deranged-references negative control: for each cyclic shift s = 1…K−1, artist a's references
    are labelled as artist (a+s) mod K — every artist is given another's works — and the attribution is
    redone. Returns the mean accuracy over shifts beside chance, and the false-positive rate of the per-artist
    binomial test (share of artist×shift cells called significant) with its family-wise rate (share of shifts
    with any)."""
    n_artists = scores.shape[1]
    if n_artists < 3:
        return {"n_shifts": 0, "accuracy": None, "false_positive_rate": None, "family_wise_error": None}
    n = np.bincount(true_idx, minlength=n_artists)
    accs, flags = [], []
    for s in range(1, n_artists):
        shifted = np.empty_like(scores)
        shifted[:, (np.arange(n_artists) + s) % n_artists] = scores
        pred = np.argmax(shifted, axis=1)
        correct = np.bincount(true_idx[pred == true_idx], minlength=n_artists)
        keep = n > 0
        accs.append(float((correct[keep] / n[keep]).mean()))
        flags.append(binomial_significance(correct[keep], n[keep], 1 / n_artists, alpha=alpha, correction=correction))
    flags_all = np.concatenate(flags)
    return {
        "n_shifts": n_artists - 1,
        "accuracy": float(np.mean(accs)),
        "chance": 1 / n_artists,
        "false_positive_rate": float(flags_all.mean()),
        "family_wise_error": float(np.mean([f.any() for f in flags])),
    }
