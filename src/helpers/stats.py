"""The statistics of classification: cosine matching, accuracy with intervals, resampling, the sample-size
curve. The tests on real works live in :mod:`helpers.significance`.

Pure functions over numpy arrays and pandas frames (no file I/O, no torch). Conventions:

* An embedding matrix is ``[rows, dim]``; cosine similarity is ``cos(u, v) = u·v / (‖u‖ ‖v‖)``.
* A label index ``i`` names ``names[i]``; ``true_idx`` and ``pred_idx`` hold one index per image
  (the top-1 column of :func:`top_k`).
* Inputs are checked once, at each public function, by :mod:`helpers.arrays`; every mistake raises
  :class:`helpers.errors.AuditError` saying what, where and how to fix it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import permutations

import numpy as np
import pandas as pd
from scipy import stats as _sps

from . import arrays
from .errors import AuditError
from .files import Columns
from .schema import Interval

__all__ = [
    "normalize",
    "cosine_similarity",
    "top_k",
    "confusion_matrix",
    "proportion_interval",
    "accuracy_table",
    "mean_accuracy",
    "pooled_accuracy",
    "chance",
    "spread",
    "bootstrap_means",
    "bootstrap_mean_ci",
    "permutation_test_vs_chance",
    "sample_size_curve",
    "principal_components",
    "ACCURACY_COLUMNS",
    "CURVE_COLUMNS",
]

ACCURACY_COLUMNS = Columns(
    group="text", name="text", n_images="int", n_correct="int", accuracy="float", ci_low="float", ci_high="float"
)
CURVE_COLUMNS = Columns(n_images="int", mean_accuracy="float", ci_low="float", ci_high="float")

# top_k keeps its per-chunk work (scores, partition indices, masks: about 16 bytes per entry) under this.
_BLOCK_BYTES = 256 * 2**20
# top_k ranks by repeated argmax up to this k, by argpartition beyond.
_ARGMAX_PASSES = 16
# Resampling functions draw at most this many numbers at once.
_DRAW_BLOCK = 2**22
# A permuted statistic within this of the observed one counts as equal (sums taken in another order).
_TIE_TOL = 1e-12


# ----------------------------------------------------------------------------- similarity and matching


def normalize(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length: ``x[i] / ‖x[i]‖₂``, as a new float64 array.

    Raises :class:`AuditError` for an array that is not 2-D (or has no columns), holds NaN or inf,
    or has an all-zero row (its direction, and so any cosine with it, is undefined).
    """
    return arrays.unit_rows(arrays.matrix(x, "x", "normalize"), what="x", where="normalize")


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``S[i, j] = cos(a[i], b[j])`` as a float64 ``[n_a, n_b]`` array, clipped to [-1, 1] against rounding.

    Raises :class:`AuditError` when the embedding dimensions differ, or for the inputs
    :func:`normalize` refuses.
    """
    where = "cosine_similarity"
    a, b = arrays.matrix(a, "a", where), arrays.matrix(b, "b", where)
    arrays.same_dim(a, b, "a", "b", where)
    return arrays.cosine(arrays.unit_rows(a, what="a", where=where), arrays.unit_rows(b, what="b", where=where))


def top_k(
    image_emb: np.ndarray, label_emb: np.ndarray, k: int = 1, chunk_size: int = 8192
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` labels most cosine-similar to each image, best first: ``(indices int64 [N, k], scores float32 [N, k])``.

    ``indices[i, 0] = argmax_j cos(image_emb[i], label_emb[j])``; equal scores rank the lower label
    index first. Scores are float32 cosines. Labels are normalised once; images are taken
    ``chunk_size`` rows at a time (fewer when the labels are many, so each chunk's scores stay near
    256 MB), so memory grows with ``chunk_size × (n_labels + dim)``, not with ``N × n_labels``.

    Raises :class:`AuditError` for mismatched dimensions, NaN/inf or all-zero rows, fewer than two
    labels, or ``k`` outside ``1..n_labels``.
    """
    where = "top_k"
    images = arrays.matrix(image_emb, "image_emb", where)
    labels = arrays.matrix(label_emb, "label_emb", where)
    arrays.same_dim(images, labels, "image_emb", "label_emb", where)
    n_labels = arrays.label_count(labels.shape[0], where)
    k = arrays.positive_int(k, "k", where)
    if k > n_labels:
        raise AuditError(f"k={k} is more than the {n_labels} labels", where=where, fix=f"ask for k <= {n_labels}")
    chunk_size = arrays.positive_int(chunk_size, "chunk_size", where)

    unit_labels = arrays.unit_rows(labels, what="label_emb", where=where, dtype=np.float32)
    n_images, dim = images.shape
    rows = max(1, min(chunk_size, _BLOCK_BYTES // (16 * max(n_labels, dim))))
    indices = np.empty((n_images, k), dtype=np.int64)
    scores = np.empty((n_images, k), dtype=np.float32)
    for start in range(0, n_images, rows):
        stop = min(start + rows, n_images)
        block = arrays.unit_rows(images[start:stop], what="image_emb", where=where, dtype=np.float32, offset=start)
        indices[start:stop], scores[start:stop] = best_k(block @ unit_labels.T, k)
    return indices, scores


def best_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Best ``k`` columns per row of a score matrix, best first, ties to the lower index: ``(indices, scores)``.
    Overwrites ``scores`` (pass a temporary or a copy)."""
    if k <= _ARGMAX_PASSES:
        # k passes of argmax (the first maximum, so the lowest index among ties), masking each winner:
        # far cheaper than argpartition over many labels when k is small.
        rows = np.arange(scores.shape[0])
        idx = np.empty((scores.shape[0], k), dtype=np.int64)
        top = np.empty((scores.shape[0], k), dtype=scores.dtype)
        for j in range(k):
            best = scores.argmax(axis=1)
            idx[:, j], top[:, j] = best, scores[rows, best]
            scores[rows, best] = -np.inf
        return idx, top
    n_labels = scores.shape[1]
    idx = np.argpartition(scores, n_labels - k, axis=1)[:, n_labels - k :]
    top = np.take_along_axis(scores, idx, axis=1)
    kth = top.min(axis=1, keepdims=True)
    # argpartition breaks ties at the k-th score arbitrarily; redo the rows where a tie crossed that edge.
    crossed = np.flatnonzero((scores == kth).sum(axis=1) != (top == kth).sum(axis=1))
    if crossed.size:
        idx[crossed] = np.argsort(-scores[crossed], axis=1, kind="stable")[:, :k]
        top[crossed] = np.take_along_axis(scores[crossed], idx[crossed], axis=1)
    order = np.lexsort((idx, -top), axis=1)
    return np.take_along_axis(idx, order, axis=1).astype(np.int64), np.take_along_axis(top, order, axis=1)


def confusion_matrix(true_idx: np.ndarray, pred_idx: np.ndarray, n_labels: int) -> np.ndarray:
    """``C[t, p]`` = number of images of true label ``t`` predicted as ``p`` (int64 ``[K, K]``, rows = true)."""
    where = "confusion_matrix"
    n_labels = arrays.label_count(n_labels, where)
    true, pred = arrays.true_pred(true_idx, pred_idx, n_labels, where)
    return np.bincount(true * n_labels + pred, minlength=n_labels * n_labels).reshape(n_labels, n_labels)


# ----------------------------------------------------------------------------- accuracy and its uncertainty


def proportion_interval(successes, n, confidence: float = 0.95, method: Interval = "wilson"):
    """A two-sided ``confidence`` interval ``(low, high)`` for a binomial proportion ``x / n``.

    ``"wilson"``: ``(p̂ + z²/2n ± z·√(p̂(1-p̂)/n + z²/4n²)) / (1 + z²/n)`` with ``z`` the
    ``1 - α/2`` normal quantile, ``α = 1 - confidence`` (clipped to [0, 1]). ``"exact"``
    (Clopper–Pearson): ``low = Beta⁻¹(α/2; x, n-x+1)`` (0 when x = 0),
    ``high = Beta⁻¹(1-α/2; x+1, n-x)`` (1 when x = n). Works elementwise on arrays; scalars give floats.
    """
    where = "proportion_interval"
    alpha = 1.0 - arrays.probability(confidence, "confidence", where)
    interval = arrays.choice(_INTERVALS, method, "interval method", where)
    x = np.asarray(successes, dtype=np.float64)
    total = np.asarray(n, dtype=np.float64)
    if not (np.isfinite(x).all() and np.isfinite(total).all()):
        raise AuditError("successes or n hold NaN or inf", where=where, fix="pass whole counts")
    if (total < 1).any():
        raise AuditError("a proportion has n = 0 trials", where=where, fix="drop groups with no images")
    if (x < 0).any() or (x > total).any() or (x != np.round(x)).any() or (total != np.round(total)).any():
        raise AuditError(
            "successes must be whole numbers between 0 and n", where=where, fix="pass counts, not fractions"
        )
    low, high = interval(x, total, alpha)
    if low.ndim == 0:
        return float(low), float(high)
    return low, high


def _wilson(x: np.ndarray, total: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    z = _sps.norm.isf(alpha / 2)
    p = x / total
    denom = 1 + z**2 / total
    centre = (p + z**2 / (2 * total)) / denom
    half = z * np.sqrt(p * (1 - p) / total + z**2 / (4 * total**2)) / denom
    return np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)


def _exact(x: np.ndarray, total: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(invalid="ignore"):
        low = np.where(x == 0, 0.0, _sps.beta.ppf(alpha / 2, x, total - x + 1))
        high = np.where(x == total, 1.0, _sps.beta.isf(alpha / 2, x + 1, total - x))
    return low, high


_INTERVALS = {"wilson": _wilson, "exact": _exact}


def accuracy_table(
    true_idx: np.ndarray,
    pred_idx: np.ndarray,
    names: Sequence,
    *,
    group: str,
    interval: str = "wilson",
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Per-name top-1 accuracy: ``accuracy = n_correct / n_images`` over the images whose true label is the name.

    One row per entry of ``names`` (label ``i`` is ``names[i]``), in that order, with the
    :func:`proportion_interval` of each accuracy; ``group`` fills the ``group`` column (e.g.
    ``"artists"``, ``"random names"``). Columns: ``group, name, n_images, n_correct, accuracy,
    ci_low, ci_high``. Raises :class:`AuditError` for duplicate names or a name with no images.
    """
    where = "accuracy_table"
    labels = arrays.distinct(names, where)
    true, pred = arrays.true_pred(true_idx, pred_idx, len(labels), where)
    n_images = np.bincount(true, minlength=len(labels))
    n_correct = np.bincount(true[true == pred], minlength=len(labels))
    missing = [labels[i] for i in np.flatnonzero(n_images == 0)]
    if missing:
        shown = ", ".join(repr(m) for m in missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise AuditError(
            f"{len(missing)} name(s) have no images: {shown}",
            where=where,
            fix="generate images for them or remove them from names",
        )
    low, high = proportion_interval(n_correct, n_images, confidence, interval)
    return pd.DataFrame(
        {
            "group": group,
            "name": labels,
            "n_images": n_images,
            "n_correct": n_correct,
            "accuracy": n_correct / n_images,
            "ci_low": low,
            "ci_high": high,
        },
        columns=list(ACCURACY_COLUMNS),
    )


def mean_accuracy(table: pd.DataFrame) -> float:
    """The paper's headline: ``(1/K) Σ_a n_correct_a / n_images_a``, the unweighted mean of per-name accuracy."""
    rows = arrays.accuracy_rows(table, "mean_accuracy")
    return float((rows["n_correct"] / rows["n_images"]).mean())


def pooled_accuracy(table: pd.DataFrame) -> float:
    """``Σ_a n_correct_a / Σ_a n_images_a``: the share of all images matched to their own label."""
    rows = arrays.accuracy_rows(table, "pooled_accuracy")
    return float(rows["n_correct"].sum() / rows["n_images"].sum())


def chance(n_labels: int) -> float:
    """``1 / K``: the expected accuracy of guessing uniformly among ``K`` labels."""
    return 1.0 / arrays.label_count(n_labels, "chance")


def spread(values) -> dict:
    """How a number varies over repeats (e.g. one headline accuracy per generation seed).

    ``{"n": n, "mean": x̄ = (1/n) Σ x_j, "sd": √(Σ (x_j − x̄)² / (n − 1)), "min": min x_j, "max": max x_j}``;
    ``sd`` is NaN for a single value (no spread can be estimated from one repeat).
    """
    x = arrays.vector(values, "values", "spread")
    sd = float(x.std(ddof=1)) if x.size > 1 else float("nan")
    return {"n": int(x.size), "mean": float(x.mean()), "sd": sd, "min": float(x.min()), "max": float(x.max())}


def bootstrap_means(values: np.ndarray, *, n_boot: int = 10000, seed: int = 0) -> np.ndarray:
    """The ``n_boot`` replicate means of a bootstrap of ``values``: replicate ``j`` draws ``len(values)``
    values with replacement (``np.random.default_rng(seed)``) and takes their mean, ``m*_j = (1/n) Σ x*``.
    """
    where = "bootstrap_means"
    x = arrays.vector(values, "values", where)
    n_boot = arrays.positive_int(n_boot, "n_boot", where)
    rng = np.random.default_rng(seed)
    block = max(1, _DRAW_BLOCK // x.size)
    return np.concatenate(
        [
            x[rng.integers(0, x.size, size=(min(block, n_boot - s), x.size))].mean(axis=1)
            for s in range(0, n_boot, block)
        ]
    )


def bootstrap_mean_ci(
    values: np.ndarray, *, n_boot: int = 10000, confidence: float = 0.95, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap interval for the mean of ``values`` (e.g. per-artist accuracies).

    The interval is the ``α/2`` and ``1 - α/2`` quantiles (numpy's linear rule) of the ``n_boot``
    replicate means of :func:`bootstrap_means` (each replicate draws ``len(values)`` values with
    replacement from ``np.random.default_rng(seed)``), ``α = 1 - confidence``.
    """
    where = "bootstrap_mean_ci"
    x = arrays.vector(values, "values", where)
    n_boot = arrays.positive_int(n_boot, "n_boot", where)
    alpha = 1.0 - arrays.probability(confidence, "confidence", where)
    low, high = np.quantile(bootstrap_means(x, n_boot=n_boot, seed=seed), [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)


def permutation_test_vs_chance(
    true_idx: np.ndarray, pred_idx: np.ndarray, n_labels: int, *, n_perm: int = 10000, seed: int = 0
) -> float:
    """One-sided p-value that the mean-over-names accuracy beats chance, with the **names** as the units.

    The images of one name share its prompt and the style the model learnt for it, so they are not
    exchangeable across names one by one; what the null hypothesis (the predictions have nothing to do with
    the prompted name) makes exchangeable is *which name each group of images belongs to*. With ``C[a, b]``
    the share of name ``a``'s images predicted as ``b`` and ``A`` the ``K`` names with images, the statistic
    is ``T = (1/K) Σ_{a ∈ A} C[a, a]`` and a permutation ``σ`` of ``A`` gives
    ``T_σ = (1/K) Σ_{a ∈ A} C[a, σ(a)]``. When ``K! ≤ n_perm`` every permutation is enumerated and
    ``p = #{σ : T_σ ≥ T} / K!`` exactly; otherwise ``n_perm`` random permutations (``default_rng(seed)``) give
    ``p = (1 + #{T_σ ≥ T}) / (1 + n_perm)``.
    """
    where = "permutation_test_vs_chance"
    n_labels = arrays.label_count(n_labels, where)
    true, pred = arrays.true_pred(true_idx, pred_idx, n_labels, where)
    if true.size == 0:
        raise AuditError("no images", where=where, fix="pass at least one image")
    n_perm = arrays.positive_int(n_perm, "n_perm", where)
    present = np.flatnonzero(np.bincount(true, minlength=n_labels))
    counts = np.bincount(true * n_labels + pred, minlength=n_labels * n_labels).reshape(n_labels, n_labels)
    share = (counts / np.maximum(counts.sum(axis=1, keepdims=True), 1))[np.ix_(present, present)]
    k = present.size
    observed = float(np.trace(share) / k)
    rows = np.arange(k)
    if math.factorial(k) <= n_perm:
        perms = np.array(list(permutations(range(k))))
        return float((share[rows, perms].mean(axis=1) >= observed - _TIE_TOL).mean())
    rng = np.random.default_rng(seed)
    block = max(1, _DRAW_BLOCK // k)
    at_least = 0
    for start in range(0, n_perm, block):
        perms = rng.permuted(np.tile(rows, (min(block, n_perm - start), 1)), axis=1)
        at_least += int((share[rows, perms].mean(axis=1) >= observed - _TIE_TOL).sum())
    return (1 + at_least) / (1 + n_perm)


def sample_size_curve(
    true_idx: np.ndarray,
    pred_idx: np.ndarray,
    n_labels: int,
    *,
    sizes: Sequence[int] | None = None,
    repeats: int = 1000,
    confidence: float = 0.95,
    replace: bool = False,
    seed: int = 0,
) -> pd.DataFrame:
    """Mean-over-labels accuracy had each label only ``n`` images, for ``n`` in ``sizes`` (default 1..max).

    For each ``n`` and each of ``repeats`` draws (``default_rng(seed)``), every label with images
    keeps ``min(n, n_a)`` of its ``n_a`` images, drawn without replacement (with replacement if
    ``replace``), and the per-label accuracies are averaged. ``mean_accuracy`` is the average over
    draws; ``ci_low``/``ci_high`` are the ``α/2`` and ``1 - α/2`` quantiles of the draws. Without
    replacement the interval shrinks to a point once ``n`` reaches every label's count.
    Columns: ``n_images, mean_accuracy, ci_low, ci_high``.
    """
    where = "sample_size_curve"
    n_labels = arrays.label_count(n_labels, where)
    true, pred = arrays.true_pred(true_idx, pred_idx, n_labels, where)
    if true.size == 0:
        raise AuditError("no images", where=where, fix="pass at least one image")
    repeats = arrays.positive_int(repeats, "repeats", where)
    alpha = 1.0 - arrays.probability(confidence, "confidence", where)
    counts = np.bincount(true, minlength=n_labels)
    correct = np.bincount(true[true == pred], minlength=n_labels)
    counts, correct = counts[counts > 0], correct[counts > 0]
    if sizes is None:
        sizes = range(1, int(counts.max()) + 1)
    sizes = [arrays.positive_int(s, "sizes", where) for s in sizes]
    if not sizes:
        raise AuditError("sizes is empty", where=where, fix="pass at least one size, or leave sizes out")
    rng = np.random.default_rng(seed)
    rows = []
    for size in sizes:
        kept = np.minimum(size, counts)
        shape = (repeats, counts.size)
        if replace:
            hits = rng.binomial(kept, correct / counts, size=shape)
        else:
            hits = rng.hypergeometric(correct, counts - correct, kept, size=shape)
        means = (hits / kept).mean(axis=1)
        low, high = np.quantile(means, [alpha / 2, 1 - alpha / 2])
        rows.append((size, float(means.mean()), float(low), float(high)))
    return pd.DataFrame(rows, columns=list(CURVE_COLUMNS))


def principal_components(x: np.ndarray, n_components: int = 2) -> np.ndarray:
    """Coordinates of the rows of ``x`` on its first principal axes: ``U_k S_k`` from the SVD of ``x - mean(x)``.

    Each axis is signed so that its largest-magnitude loading is positive, which makes the result
    deterministic. Returns float64 ``[rows, n_components]``.
    """
    where = "principal_components"
    data = arrays.matrix(x, "x", where).astype(np.float64)
    if not np.isfinite(data).all():
        raise AuditError("x holds NaN or inf", where=where, fix="re-embed the rows that hold them")
    n_components = arrays.positive_int(n_components, "n_components", where)
    if n_components > min(data.shape):
        raise AuditError(
            f"{n_components} components asked of a {data.shape[0]} x {data.shape[1]} matrix",
            where=where,
            fix=f"ask for at most {min(data.shape)} components",
        )
    u, s, vt = np.linalg.svd(data - data.mean(axis=0), full_matrices=False)
    u, s, vt = u[:, :n_components], s[:n_components], vt[:n_components]
    sign = np.sign(vt[np.arange(n_components), np.abs(vt).argmax(axis=1)])
    sign[sign == 0] = 1
    return u * s * sign
