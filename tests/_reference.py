"""Independent reference implementations for the tests: written from the textbook definitions with numpy
and the standard library, so a test compares the package with a second computation — never with the very
library call the package wraps."""

from __future__ import annotations

import math
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
