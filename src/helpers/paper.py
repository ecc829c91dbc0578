"""What the paper reports (Casper et al. 2023, arXiv 2307.04028): its selection rule (a default of the params)
and its headline numbers (for comparison only). Plain constants, imported from here by everyone, so that the
selection command line, which needs the rule, starts without importing the parameter schema (pydantic)."""

from __future__ import annotations

__all__ = ["PAPER", "PAPER_RULE"]

PAPER_RULE = 100
"""The paper's selection rule: an artist is named in more than this many captions (``selection.min_images``'s
default, the exposure split of stage 04)."""

PAPER = {
    "accuracy": 0.810,
    "accuracy_random_names": 0.086,
    "chance": 1 / 70,
    "fraction_significant": 0.90,
    "n_artists": 70,
    "source": "Casper et al. 2023, arXiv 2307.04028",
}
"""The paper's reported numbers, for comparison only; nothing is computed from them."""
