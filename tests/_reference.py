"""Independent reference implementations for the tests: written from the textbook definitions with numpy
and the standard library, so a test compares the package with a second computation — never with the very
library call the package wraps."""

from __future__ import annotations

import math
from fractions import Fraction
from functools import cache

import numpy as np


@cache
def _arrangements(u: int, m: int, n: int) -> int:
    """How many orderings of m X's and n Y's (no ties) give U = #{(x, y): x > y} = u."""
    if u < 0:
        return 0
    if m == 0 or n == 0:
        return int(u == 0)
    # the largest value is an X (it beats all n Y's) or a Y (it beats nothing)
    return _arrangements(u - n, m - 1, n) + _arrangements(u, m, n - 1)


def mann_whitney_greater(own, other) -> tuple[float, float]:
    """``(U, p)`` of the one-sided test own > other, chosen as scipy documents its ``method="auto"``: the
    exact null distribution when one sample has at most 8 values and there are no ties, else the normal
    approximation with the tie correction and the continuity correction."""
    x, y = np.asarray(own, dtype=float), np.asarray(other, dtype=float)
    m, n = x.size, y.size
    u = float((x[:, None] > y[None, :]).sum() + 0.5 * (x[:, None] == y[None, :]).sum())
    _, counts = np.unique(np.concatenate([x, y]), return_counts=True)
    if (m <= 8 or n <= 8) and not (counts > 1).any():
        at_least = sum(_arrangements(k, m, n) for k in range(math.ceil(u), m * n + 1))
        return u, at_least / math.comb(m + n, m)
    total = m + n
    sigma = math.sqrt(m * n / 12 * ((total + 1) - float((counts**3 - counts).sum()) / (total * (total - 1))))
    z = (u - m * n / 2 - 0.5) / sigma
    return u, 0.5 * math.erfc(z / math.sqrt(2))


def adjust(p, method: str) -> np.ndarray:
    """Bonferroni min(1, m·p); Holm's step-down max_{j≤i} min(1, (m−j+1)·p_(j)); Benjamini–Hochberg's
    step-up min_{j≥i} min(1, m·p_(j)/j) — each by its definition, in sorted order."""
    p = np.asarray(p, dtype=float)
    m = p.size
    if method == "bonferroni":
        return np.minimum(1.0, m * p)
    order = np.argsort(p, kind="stable")
    ranked = p[order]
    out = np.empty(m)
    if method == "holm":
        running = 0.0
        for i in range(m):
            running = max(running, min(1.0, (m - i) * ranked[i]))
            out[order[i]] = running
    else:  # fdr_bh
        running = 1.0
        for i in range(m - 1, -1, -1):
            running = min(running, min(1.0, m * ranked[i] / (i + 1)))
            out[order[i]] = running
    return out


def average_ranks(values) -> list[float]:
    """Ranks 1..n of ``values``; a run of equal values shares the mean of the ranks it spans."""
    order = sorted(range(len(values)), key=lambda j: values[j])
    ranks = [0.0] * len(values)
    start = 0
    while start < len(order):
        stop = start
        while stop + 1 < len(order) and values[order[stop + 1]] == values[order[start]]:
            stop += 1
        for j in order[start : stop + 1]:
            ranks[j] = (start + stop) / 2 + 1  # the mean of ranks start+1 … stop+1
        start = stop + 1
    return ranks


def student_t_two_sided(t: float, dof: int) -> float:
    """P(|T_dof| ≥ |t|) from the finite series of Abramowitz & Stegun 26.7.3–4 (integer dof), with
    θ = atan(|t|/√dof): A = 2θ/π + (2/π) sinθ cosθ Σ … (odd dof), A = sinθ Σ … (even dof); p = 1 − A."""
    theta = math.atan(abs(t) / math.sqrt(dof))
    s, c = math.sin(theta), math.cos(theta)
    if dof % 2:
        term, total = 1.0, 1.0 if dof > 1 else 0.0
        for k in range(1, (dof - 1) // 2):  # 1 + (2/3)c² + (2·4)/(3·5)c⁴ + …, up to c^(dof−3)
            term *= (2 * k) / (2 * k + 1) * c * c
            total += term
        a = 2 / math.pi * (theta + s * c * total)
    else:
        term, total = 1.0, 1.0
        for k in range(1, dof // 2):  # 1 + (1/2)c² + (1·3)/(2·4)c⁴ + …, up to c^(dof−2)
            term *= (2 * k - 1) / (2 * k) * c * c
            total += term
        a = s * total
    return 1.0 - a


def spearman(x, y) -> tuple[float, float]:
    """ρ = Pearson's correlation of the average ranks; p = P(|T_{n−2}| ≥ |t|), t = ρ√((n−2)/(1−ρ²))."""
    r, q = average_ranks(list(x)), average_ranks(list(y))
    n = len(r)
    mr, mq = sum(r) / n, sum(q) / n
    sxy = sum((a - mr) * (b - mq) for a, b in zip(r, q, strict=True))
    sxx, syy = sum((a - mr) ** 2 for a in r), sum((b - mq) ** 2 for b in q)
    rho = sxy / math.sqrt(sxx * syy)
    if abs(rho) >= 1.0:
        return rho, 0.0
    return rho, student_t_two_sided(rho * math.sqrt((n - 2) / (1 - rho * rho)), n - 2)


def mcnemar(b: int, c: int) -> float:
    """Exact two-sided McNemar p = min(1, 2 Σ_{k ≤ min(b, c)} C(b + c, k) / 2^(b+c)) in integer arithmetic."""
    n = b + c
    if n == 0:
        return 1.0
    tail = Fraction(sum(math.comb(n, k) for k in range(min(b, c) + 1)), 2**n)
    return float(min(Fraction(1), 2 * tail))


def artist_level_p(m, diagonal) -> np.ndarray:
    """The artist-level test's p-value of each row's matched pair, cell by cell from its definition: for every
    cell, the additive model ``m[r, c] ≈ row_r + col_c`` is fitted by least squares (``np.linalg.lstsq`` on
    an explicit design) to the *mismatched* cells other than itself; ``u`` is the cell's prediction error
    divided by ``√(1 + x'(X'X)⁻¹x)``; ``z = u / √(w_row · w_col)`` with ``w`` the mean of ``u²`` over the row's and
    the column's mismatched cells other than itself; the matched cell's
    ``p = (1 + #{mismatched: z ≥ z_matched}) / (1 + #mismatched)``."""
    m = np.asarray(m, dtype=float)
    rows, cols = m.shape
    mismatched = [(r, c) for r in range(rows) for c in range(cols) if c != diagonal[r]]

    def design(cells):
        x = np.zeros((len(cells), rows + cols))
        for i, (r, c) in enumerate(cells):
            x[i, r] = x[i, rows + c] = 1.0
        return x

    u = {}
    for cell in [(r, c) for r in range(rows) for c in range(cols)]:
        fit = [x for x in mismatched if x != cell]
        x = design(fit)
        coef = np.linalg.lstsq(x, np.array([m[c] for c in fit]), rcond=None)[0]
        here = design([cell])[0]
        factor = 1 + here @ np.linalg.pinv(x.T @ x) @ here
        u[cell] = (m[cell] - here @ coef) / math.sqrt(factor)
    z = {}
    for r, c in u:
        w_row = np.mean([u[x] ** 2 for x in mismatched if x[0] == r and x != (r, c)])
        w_col = np.mean([u[x] ** 2 for x in mismatched if x[1] == c and x != (r, c)])
        z[r, c] = u[r, c] / math.sqrt(w_row * w_col)
    reference = [z[x] for x in mismatched]
    return np.array([(1 + sum(v >= z[r, diagonal[r]] for v in reference)) / (1 + len(reference)) for r in range(rows)])


def signed_rank_exact(d) -> float:
    """Two-sided exact p-value of Wilcoxon's signed-rank test for differences without zeros or ties: the
    statistic is the sum of the ranks of |d| whose d is positive; under the null every one of the 2^n sign
    patterns is equally likely; ``p = min(1, 2 · min(P(T ≥ t), P(T ≤ t)))``."""
    d = np.asarray(d, dtype=float)
    ranks = np.argsort(np.argsort(np.abs(d))) + 1
    t = ranks[d > 0].sum()
    n = d.size
    totals = [sum(r for r, bit in zip(ranks, range(n), strict=True) if mask >> bit & 1) for mask in range(2**n)]
    upper = sum(v >= t for v in totals) / 2**n
    lower = sum(v <= t for v in totals) / 2**n
    return min(1.0, 2 * min(upper, lower))
