"""``report.html``: one page a person reads — the headline against the paper, the caveats, for a sweep the
comparison of its configurations (:mod:`.sweep`), then each configuration's figures (each with a caption
saying what it shows), the artists whose classification and validation disagree (:func:`disagreements`), and
the per-artist table sorted by accuracy (:mod:`.page`). Numbers are formatted (:mod:`.format`); nothing is a
raw dump.

Every number on the page is read from the products of the stages and of ``06_comparison``; the page
computes none (the disagreement table only compares two of them, per artist).
"""

from .format import FIGURE_CAPTIONS, NAMED_AT, interval, p_value, percent
from .page import disagreements, write_report

__all__ = ["write_report", "disagreements", "percent", "interval", "p_value", "FIGURE_CAPTIONS", "NAMED_AT"]
