"""Every statistic of the audit: cosine matching, accuracy with intervals, and the real-work validation test.

Pure functions over numpy arrays and pandas frames (no file I/O, no torch). Conventions:

* An embedding matrix is ``[rows, dim]``; cosine similarity is ``cos(u, v) = u·v / (‖u‖ ‖v‖)``.
* A label index ``i`` names ``names[i]``; ``true_idx`` and ``pred_idx`` hold one index per image
  (the top-1 column of :func:`top_k`).
* Every user mistake raises :class:`helpers.errors.AuditError` saying what, where and how to fix it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats as _sps
from statsmodels.stats.multitest import multipletests

from .errors import AuditError

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
    "bootstrap_mean_ci",
    "permutation_test_vs_chance",
    "mann_whitney_greater",
    "adjust_pvalues",
    "validation_table",
    "own_other_similarities",
    "sample_size_curve",
    "principal_components",
    "ACCURACY_COLUMNS",
    "VALIDATION_COLUMNS",
    "CURVE_COLUMNS",
]

ACCURACY_COLUMNS = ("group", "name", "n_images", "n_correct", "accuracy", "ci_low", "ci_high")
VALIDATION_COLUMNS = (
    "artist",
    "n_real",
    "n_own",
    "n_other",
    "statistic",
    "p_value",
    "p_adjusted",
    "significant",
    "auc",
    "mean_own",
    "mean_other",
)
CURVE_COLUMNS = ("n_images", "mean_accuracy", "ci_low", "ci_high")

_INTERVALS = ("wilson", "exact")
_CORRECTIONS = ("bonferroni", "holm", "fdr_bh")
_AGGREGATES = {"mean": np.mean, "max": np.max, "median": np.median}
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
    return _unit_rows(_matrix(x, "x", "normalize"), what="x", where="normalize")


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``S[i, j] = cos(a[i], b[j])`` as a float64 ``[n_a, n_b]`` array, clipped to [-1, 1] against rounding.

    Raises :class:`AuditError` when the embedding dimensions differ, or for the inputs
    :func:`normalize` refuses.
    """
    where = "cosine_similarity"
    a, b = _matrix(a, "a", where), _matrix(b, "b", where)
    _same_dim(a, b, "a", "b", where)
    return _cosine(_unit_rows(a, what="a", where=where), _unit_rows(b, what="b", where=where))


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
    images = _matrix(image_emb, "image_emb", where)
    labels = _matrix(label_emb, "label_emb", where)
    _same_dim(images, labels, "image_emb", "label_emb", where)
    n_labels = _check_n_labels(labels.shape[0], where)
    k = _positive_int(k, "k", where)
    if k > n_labels:
        raise AuditError(
            f"k={k} is more than the {n_labels} labels", where=where, fix=f"ask for k <= {n_labels}"
        )
    chunk_size = _positive_int(chunk_size, "chunk_size", where)

    unit_labels = _unit_rows(labels, what="label_emb", where=where, dtype=np.float32)
    n_images, dim = images.shape
    rows = max(1, min(chunk_size, _BLOCK_BYTES // (16 * max(n_labels, dim))))
    indices = np.empty((n_images, k), dtype=np.int64)
    scores = np.empty((n_images, k), dtype=np.float32)
    for start in range(0, n_images, rows):
        stop = min(start + rows, n_images)
        block = _unit_rows(images[start:stop], what="image_emb", where=where, dtype=np.float32, offset=start)
        indices[start:stop], scores[start:stop] = _best_k(block @ unit_labels.T, k)
    return indices, scores


def _best_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Best ``k`` per row, ties to the lower index. Overwrites ``scores`` (a temporary block)."""
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
    n_labels = _check_n_labels(n_labels, where)
    true, pred = _true_pred(true_idx, pred_idx, n_labels, where)
    return np.bincount(true * n_labels + pred, minlength=n_labels * n_labels).reshape(n_labels, n_labels)


# ----------------------------------------------------------------------------- accuracy and its uncertainty


def proportion_interval(successes, n, confidence: float = 0.95, method: str = "wilson"):
    """A two-sided ``confidence`` interval ``(low, high)`` for a binomial proportion ``x / n``.

    ``"wilson"``: ``(p̂ + z²/2n ± z·√(p̂(1-p̂)/n + z²/4n²)) / (1 + z²/n)`` with ``z`` the
    ``1 - α/2`` normal quantile, ``α = 1 - confidence`` (clipped to [0, 1]). ``"exact"``
    (Clopper–Pearson): ``low = Beta⁻¹(α/2; x, n-x+1)`` (0 when x = 0),
    ``high = Beta⁻¹(1-α/2; x+1, n-x)`` (1 when x = n). Works elementwise on arrays; scalars give floats.
    """
    where = "proportion_interval"
    alpha = 1.0 - _confidence(confidence, where)
    if method not in _INTERVALS:
        raise AuditError(
            f"unknown interval method {method!r}", where=where, fix=f"use one of {list(_INTERVALS)}"
        )
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
    if method == "wilson":
        z = _sps.norm.isf(alpha / 2)
        p = x / total
        denom = 1 + z**2 / total
        centre = (p + z**2 / (2 * total)) / denom
        half = z * np.sqrt(p * (1 - p) / total + z**2 / (4 * total**2)) / denom
        low, high = np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)
    else:
        with np.errstate(invalid="ignore"):
            low = np.where(x == 0, 0.0, _sps.beta.ppf(alpha / 2, x, total - x + 1))
            high = np.where(x == total, 1.0, _sps.beta.isf(alpha / 2, x + 1, total - x))
    if low.ndim == 0:
        return float(low), float(high)
    return low, high


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
    labels = _names(names, where)
    true, pred = _true_pred(true_idx, pred_idx, len(labels), where)
    n_images = np.bincount(true, minlength=len(labels))
    n_correct = np.bincount(true[true == pred], minlength=len(labels))
    missing = [labels[i] for i in np.flatnonzero(n_images == 0)]
    if missing:
        shown = ", ".join(repr(m) for m in missing[:5]) + (
            f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        )
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
    rows = _accuracy_rows(table, "mean_accuracy")
    return float((rows["n_correct"] / rows["n_images"]).mean())


def pooled_accuracy(table: pd.DataFrame) -> float:
    """``Σ_a n_correct_a / Σ_a n_images_a``: the share of all images matched to their own label."""
    rows = _accuracy_rows(table, "pooled_accuracy")
    return float(rows["n_correct"].sum() / rows["n_images"].sum())


def chance(n_labels: int) -> float:
    """``1 / K``: the expected accuracy of guessing uniformly among ``K`` labels."""
    return 1.0 / _check_n_labels(n_labels, "chance")


def bootstrap_mean_ci(
    values: np.ndarray, *, n_boot: int = 10000, confidence: float = 0.95, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap interval for the mean of ``values`` (e.g. per-artist accuracies).

    Each replicate draws ``len(values)`` values with replacement (``np.random.default_rng(seed)``) and
    takes their mean; the interval is the ``α/2`` and ``1 - α/2`` quantiles (numpy's linear rule)
    of the ``n_boot`` replicate means, ``α = 1 - confidence``.
    """
    where = "bootstrap_mean_ci"
    x = _vector(values, "values", where)
    n_boot = _positive_int(n_boot, "n_boot", where)
    alpha = 1.0 - _confidence(confidence, where)
    rng = np.random.default_rng(seed)
    block = max(1, _DRAW_BLOCK // x.size)
    means = np.concatenate(
        [
            x[rng.integers(0, x.size, size=(min(block, n_boot - s), x.size))].mean(axis=1)
            for s in range(0, n_boot, block)
        ]
    )
    low, high = np.quantile(means, [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)


def permutation_test_vs_chance(
    true_idx: np.ndarray, pred_idx: np.ndarray, n_labels: int, *, n_perm: int = 10000, seed: int = 0
) -> float:
    """One-sided p-value that the mean-over-labels accuracy beats what shuffled labels give.

    The statistic is the mean, over labels with at least one image, of per-label accuracy. Each of
    ``n_perm`` permutations shuffles ``true_idx`` across images (``default_rng(seed).permuted``),
    keeping ``pred_idx`` and each label's image count; ``p = (1 + #{T_perm ≥ T_obs}) / (1 + n_perm)``.
    """
    where = "permutation_test_vs_chance"
    n_labels = _check_n_labels(n_labels, where)
    true, pred = _true_pred(true_idx, pred_idx, n_labels, where)
    if true.size == 0:
        raise AuditError("no images", where=where, fix="pass at least one image")
    n_perm = _positive_int(n_perm, "n_perm", where)
    counts = np.bincount(true, minlength=n_labels)
    present = counts > 0
    weight = np.zeros(n_labels)
    weight[present] = 1.0 / (counts[present] * present.sum())
    # T(t) = Σ_i [t_i = pred_i] · weight[t_i] = Σ_i [t_i = pred_i] · weight[pred_i]
    per_image = weight[pred]
    observed = float((true == pred).astype(np.float64) @ per_image)
    rng = np.random.default_rng(seed)
    block = max(1, _DRAW_BLOCK // 4 // true.size)
    at_least = 0
    for start in range(0, n_perm, block):
        shuffled = rng.permuted(np.tile(true, (min(block, n_perm - start), 1)), axis=1)
        at_least += int(((shuffled == pred).astype(np.float64) @ per_image >= observed - _TIE_TOL).sum())
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
    n_labels = _check_n_labels(n_labels, where)
    true, pred = _true_pred(true_idx, pred_idx, n_labels, where)
    if true.size == 0:
        raise AuditError("no images", where=where, fix="pass at least one image")
    repeats = _positive_int(repeats, "repeats", where)
    alpha = 1.0 - _confidence(confidence, where)
    counts = np.bincount(true, minlength=n_labels)
    correct = np.bincount(true[true == pred], minlength=n_labels)
    counts, correct = counts[counts > 0], correct[counts > 0]
    if sizes is None:
        sizes = range(1, int(counts.max()) + 1)
    sizes = [_positive_int(s, "sizes", where) for s in sizes]
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
    data = _matrix(x, "x", where).astype(np.float64)
    if not np.isfinite(data).all():
        raise AuditError("x holds NaN or inf", where=where, fix="re-embed the rows that hold them")
    n_components = _positive_int(n_components, "n_components", where)
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


# ----------------------------------------------------------------------------- validation against real works


def mann_whitney_greater(own: np.ndarray, other: np.ndarray) -> tuple[float, float, float]:
    """One-sided Mann–Whitney test that ``own`` tends to exceed ``other``: ``(U, p_value, auc)``.

    ``U = Σ_{x ∈ own} Σ_{y ∈ other} ([x > y] + ½[x = y])``; ``p`` is scipy's
    ``mannwhitneyu(own, other, alternative="greater")`` (exact for small samples without ties,
    else normal with tie and continuity corrections); ``auc = U / (n_own · n_other)`` = P(own > other).
    """
    where = "mann_whitney_greater"
    x, y = _vector(own, "own", where), _vector(other, "other", where)
    result = _sps.mannwhitneyu(x, y, alternative="greater")
    u = float(result.statistic)
    return u, float(result.pvalue), u / (x.size * y.size)


def adjust_pvalues(
    p: np.ndarray, method: str = "bonferroni", alpha: float = 0.05
) -> tuple[np.ndarray, np.ndarray]:
    """Multiple-testing adjusted p-values and rejections ``(p_adjusted, reject)`` over a family of ``m`` tests.

    ``"bonferroni"``: ``min(1, m·p)``; ``"holm"``: step-down ``max_{j≤i} min(1, (m-j+1)·p_(j))``;
    ``"fdr_bh"``: Benjamini–Hochberg ``min_{j≥i} min(1, m·p_(j)/j)``; ``reject = p_adjusted ≤ alpha``
    (statsmodels ``multipletests``). An empty family gives empty arrays.
    """
    where = "adjust_pvalues"
    if method not in _CORRECTIONS:
        raise AuditError(
            f"unknown correction {method!r}", where=where, fix=f"use one of {list(_CORRECTIONS)}"
        )
    alpha = _alpha(alpha, where)
    values = np.asarray(p, dtype=np.float64)
    if values.ndim != 1:
        raise AuditError(
            f"p must be 1-D, got shape {values.shape}", where=where, fix="pass one p-value per test"
        )
    if values.size == 0:
        return np.empty(0), np.empty(0, dtype=bool)
    if not np.isfinite(values).all() or (values < 0).any() or (values > 1).any():
        raise AuditError("p-values must lie in [0, 1]", where=where, fix="check the tests that produced them")
    reject, adjusted, _, _ = multipletests(values, alpha=alpha, method=method)
    return np.asarray(adjusted, dtype=np.float64), np.asarray(reject, dtype=bool)


def validation_table(
    real_emb: np.ndarray,
    real_artist: Sequence,
    imitation_emb: np.ndarray,
    imitation_artist: Sequence,
    artists: Sequence,
    *,
    aggregate: str = "mean",
    correction: str = "bonferroni",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Are an artist's real works closer to its own imitations than to other artists' imitations?

    For artist ``a`` with real works ``R_a`` and each imitation ``i`` (of any artist),
    ``s_a(i) = aggregate_{r ∈ R_a} cos(r, i)``; ``own`` = ``s_a(i)`` over ``a``'s imitations, ``other``
    over every other artist's. Each row is :func:`mann_whitney_greater` (own, other), with
    ``p_adjusted``/``significant`` from :func:`adjust_pvalues` across the rows. One row per artist
    that has real works, in ``artists`` order (artists without real works are absent).
    ``real_artist``/``imitation_artist`` give each row's artist as an entry of ``artists``.
    Columns: ``artist, n_real, n_own, n_other, statistic, p_value, p_adjusted, significant, auc,
    mean_own, mean_other``.
    """
    where = "validation_table"
    if correction not in _CORRECTIONS:
        raise AuditError(
            f"unknown correction {correction!r}", where=where, fix=f"use one of {list(_CORRECTIONS)}"
        )
    alpha = _alpha(alpha, where)
    rows = []
    for artist, n_real, own, other in _own_other(
        real_emb, real_artist, imitation_emb, imitation_artist, artists, aggregate, where
    ):
        u, p, auc = mann_whitney_greater(own, other)
        rows.append((artist, n_real, own.size, other.size, u, p, auc, float(own.mean()), float(other.mean())))
    table = pd.DataFrame(
        rows,
        columns=[
            "artist",
            "n_real",
            "n_own",
            "n_other",
            "statistic",
            "p_value",
            "auc",
            "mean_own",
            "mean_other",
        ],
    )
    table["p_adjusted"], table["significant"] = adjust_pvalues(table["p_value"].to_numpy(), correction, alpha)
    return table[list(VALIDATION_COLUMNS)]


def own_other_similarities(
    real_emb: np.ndarray,
    real_artist: Sequence,
    imitation_emb: np.ndarray,
    imitation_artist: Sequence,
    artists: Sequence,
    *,
    aggregate: str = "mean",
) -> pd.DataFrame:
    """Every ``s_a(i)`` behind :func:`validation_table`, long form: columns ``artist, kind, similarity``.

    ``kind`` is ``"own"`` when imitation ``i`` is of artist ``a``, else ``"other"``; one block per
    artist with real works, own rows first, imitations in input order.
    """
    frames = [
        pd.DataFrame(
            {
                "artist": artist,
                "kind": np.repeat(np.array(["own", "other"]), [own.size, other.size]),
                "similarity": np.concatenate([own, other]),
            }
        )
        for artist, _, own, other in _own_other(
            real_emb,
            real_artist,
            imitation_emb,
            imitation_artist,
            artists,
            aggregate,
            "own_other_similarities",
        )
    ]
    return pd.concat(frames, ignore_index=True)[["artist", "kind", "similarity"]]


def _own_other(real_emb, real_artist, imitation_emb, imitation_artist, artists, aggregate, where):
    """``(artist, n_real, own, other)`` per artist with real works, in ``artists`` order."""
    names = _names(artists, where, what="artist", minimum=1)
    if aggregate not in _AGGREGATES:
        raise AuditError(
            f"unknown aggregate {aggregate!r}", where=where, fix=f"use one of {list(_AGGREGATES)}"
        )
    real = _matrix(real_emb, "real_emb", where)
    imitations = _matrix(imitation_emb, "imitation_emb", where)
    _same_dim(real, imitations, "real_emb", "imitation_emb", where)
    real_of = _positions(real_artist, names, real.shape[0], "real_artist", where)
    imitation_of = _positions(imitation_artist, names, imitations.shape[0], "imitation_artist", where)
    unit_real = _unit_rows(real, what="real_emb", where=where)
    unit_imitations = _unit_rows(imitations, what="imitation_emb", where=where)
    n_imitations = np.bincount(imitation_of, minlength=len(names))
    if np.count_nonzero(n_imitations) < 2:
        raise AuditError(
            "imitations come from fewer than two artists, so no artist has 'other' imitations to compare with",
            where=where,
            fix="generate imitations for at least two artists",
        )
    out = []
    for a, artist in enumerate(names):
        rows = np.flatnonzero(real_of == a)
        if rows.size == 0:
            continue
        if n_imitations[a] == 0:
            raise AuditError(
                f"artist {artist!r} has {rows.size} real work(s) but no imitations",
                where=where,
                fix="generate imitations for this artist or drop its real works",
            )
        s = _AGGREGATES[aggregate](_cosine(unit_real[rows], unit_imitations), axis=0)
        own = imitation_of == a
        out.append((artist, int(rows.size), s[own], s[~own]))
    if not out:
        raise AuditError("no artist has real works", where=where, fix="pass the real works' embeddings")
    return out


# ----------------------------------------------------------------------------- checks


def _matrix(x, what: str, where: str) -> np.ndarray:
    arr = np.asarray(x)
    if arr.ndim != 2:
        raise AuditError(
            f"{what} must be a 2-D [rows, dim] array, got shape {arr.shape}",
            where=where,
            fix="stack the embeddings into one matrix (use x[None, :] for a single row)",
        )
    if arr.shape[1] == 0:
        raise AuditError(
            f"{what} has no columns", where=where, fix="pass embeddings with at least one dimension"
        )
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise AuditError(f"{what} has dtype {arr.dtype}, not numbers", where=where, fix="pass a float array")
    return arr


def _same_dim(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str, where: str) -> None:
    if a.shape[1] != b.shape[1]:
        raise AuditError(
            f"{name_a} has dimension {a.shape[1]} but {name_b} has {b.shape[1]}",
            where=where,
            fix="embed both with the same model",
        )


def _unit_rows(x: np.ndarray, *, what: str, where: str, dtype=np.float64, offset: int = 0) -> np.ndarray:
    x64 = np.asarray(x, dtype=np.float64)
    finite = np.isfinite(x64).all(axis=1)
    if not finite.all():
        row = offset + int(np.flatnonzero(~finite)[0])
        raise AuditError(
            f"{what} row {row} holds NaN or inf",
            where=where,
            fix="re-embed that item; check the model's output",
        )
    scale = np.abs(x64).max(axis=1, initial=0.0)  # dividing by the largest entry first keeps squares finite
    if (scale == 0).any():
        row = offset + int(np.flatnonzero(scale == 0)[0])
        raise AuditError(
            f"{what} row {row} is all zeros, so it has no direction",
            where=where,
            fix="re-embed that item or drop it",
        )
    scaled = x64 / scale[:, None]
    scaled /= np.sqrt(np.einsum("ij,ij->i", scaled, scaled))[:, None]
    return scaled.astype(dtype, copy=False)


def _cosine(unit_a: np.ndarray, unit_b: np.ndarray) -> np.ndarray:
    return np.clip(unit_a @ unit_b.T, -1.0, 1.0)


def _vector(x, what: str, where: str) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 1:
        raise AuditError(
            f"{what} must be 1-D, got shape {arr.shape}", where=where, fix="pass a flat list of numbers"
        )
    if arr.size == 0:
        raise AuditError(f"{what} is empty", where=where, fix="pass at least one value")
    if not np.isfinite(arr).all():
        raise AuditError(f"{what} holds NaN or inf", where=where, fix="drop or fix the missing values")
    return arr


def _check_n_labels(n_labels, where: str) -> int:
    n = _positive_int(n_labels, "n_labels", where)
    if n < 2:
        raise AuditError(
            "a single label: matching among one label is always right and measures nothing",
            where=where,
            fix="use at least two labels",
        )
    return n


def _positive_int(value, what: str, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise AuditError(
            f"{what} must be a whole number >= 1, got {value!r}", where=where, fix=f"pass a positive {what}"
        )
    return int(value)


def _confidence(confidence: float, where: str) -> float:
    if not 0 < confidence < 1:
        raise AuditError(
            f"confidence must lie strictly between 0 and 1, got {confidence!r}",
            where=where,
            fix="use e.g. 0.95",
        )
    return float(confidence)


def _alpha(alpha: float, where: str) -> float:
    if not 0 < alpha < 1:
        raise AuditError(
            f"alpha must lie strictly between 0 and 1, got {alpha!r}", where=where, fix="use e.g. 0.05"
        )
    return float(alpha)


def _label_vector(x, n_labels: int, what: str, where: str) -> np.ndarray:
    arr = np.asarray(x)
    if arr.ndim != 1:
        raise AuditError(
            f"{what} must be 1-D (one label index per image), got shape {arr.shape}",
            where=where,
            fix="pass the top-1 column, e.g. indices[:, 0] from top_k",
        )
    if arr.size == 0:
        return arr.astype(np.int64)
    if not np.issubdtype(arr.dtype, np.integer):
        raise AuditError(
            f"{what} has dtype {arr.dtype}, not integer label indices", where=where, fix="pass int indices"
        )
    if arr.min() < 0 or arr.max() >= n_labels:
        raise AuditError(
            f"{what} holds index {arr.min() if arr.min() < 0 else arr.max()}, outside 0..{n_labels - 1}",
            where=where,
            fix="index into the same label list the matrix was built from",
        )
    return arr.astype(np.int64)


def _true_pred(true_idx, pred_idx, n_labels: int, where: str) -> tuple[np.ndarray, np.ndarray]:
    true = _label_vector(true_idx, n_labels, "true_idx", where)
    pred = _label_vector(pred_idx, n_labels, "pred_idx", where)
    if true.size != pred.size:
        raise AuditError(
            f"true_idx has {true.size} entries but pred_idx has {pred.size}",
            where=where,
            fix="pass one true and one predicted label per image",
        )
    return true, pred


def _names(names, where: str, *, what: str = "name", minimum: int = 2) -> list:
    if isinstance(names, str):
        raise AuditError(f"{what}s is one string, not a list", where=where, fix=f"pass a list of {what}s")
    labels = list(names)
    if len(labels) < minimum:
        raise AuditError(
            f"{len(labels)} {what}(s) given" + (": a single label" if len(labels) == 1 else ""),
            where=where,
            fix=f"pass at least {minimum} {what}s",
        )
    seen: set = set()
    for label in labels:
        if label in seen:
            raise AuditError(f"{what} {label!r} appears twice", where=where, fix=f"keep one entry per {what}")
        seen.add(label)
    return labels


def _positions(labels, names: list, n_rows: int, what: str, where: str) -> np.ndarray:
    values = np.asarray(labels, dtype=object)
    if values.ndim != 1 or values.size != n_rows:
        raise AuditError(
            f"{what} has shape {values.shape} but the embeddings have {n_rows} rows",
            where=where,
            fix="give one artist per embedding row",
        )
    position = pd.Index(names).get_indexer(values) if n_rows else np.empty(0, dtype=np.int64)
    if (position < 0).any():
        unknown = values[position < 0][0]
        raise AuditError(
            f"{what} names {unknown!r}, which is not in artists",
            where=where,
            fix="add it to artists or drop its rows",
        )
    return position.astype(np.int64)


def _accuracy_rows(table: pd.DataFrame, where: str) -> pd.DataFrame:
    missing = {"group", "n_images", "n_correct"} - set(getattr(table, "columns", ()))
    if missing:
        raise AuditError(
            f"the table lacks columns {sorted(missing)}", where=where, fix="pass a table from accuracy_table"
        )
    if len(table) == 0:
        raise AuditError("the accuracy table is empty", where=where, fix="pass a table from accuracy_table")
    groups = table["group"].unique()
    if len(groups) > 1:
        raise AuditError(
            f"the table mixes groups {list(groups)}",
            where=where,
            fix="select one group first, e.g. table[table.group == 'artists']",
        )
    if (table["n_images"] <= 0).any():
        raise AuditError("a row has no images", where=where, fix="pass a table from accuracy_table")
    return table
