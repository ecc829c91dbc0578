"""How ``report.html`` writes things: numbers, tables, figures with their captions, and what is awaited."""

from __future__ import annotations

import html
import math

from .. import pipeline
from ..plots.captions import CAPTIONS, figure_html
from ..record import read_run
from ..schema import Params

__all__ = [
    "NAMED_AT",
    "DISAGREEMENT_COLUMNS",
    "FIGURE_CAPTIONS",
    "STYLE",
    "missing",
    "percent",
    "interval",
    "p_value",
    "esc",
    "html_table",
    "figure_html",
    "awaiting",
]

NAMED_AT = 0.5
"""An artist is *named* when CLIP names them in at least this share of their imitations."""
DISAGREEMENT_COLUMNS = (
    "artist",
    "case",
    "accuracy",
    "significant_artist_level",
    "p_adjusted_artist_level",
    "significant_paper_test",
    "disagreement",
)

FIGURE_CAPTIONS = CAPTIONS
"""What each figure shows, by figure name: :data:`helpers.plots.CAPTIONS`."""
STYLE = (
    "body{font-family:system-ui,-apple-system,sans-serif;max-width:1150px;margin:2em auto;padding:0 1em;"
    "color:#1d1d1f;line-height:1.45}h1{margin-bottom:.1em}.sub{color:#555;margin-top:0}"
    ".caveat{padding:.55em 1em;font-weight:600;margin:.4em 0;border-radius:4px;color:#fff;background:#b00020}"
    ".caveat.toy{background:#8a6500}table{border-collapse:collapse;margin:.6em 0 1.2em}"
    "td,th{border-bottom:1px solid #ddd;padding:.25em .7em;text-align:left;vertical-align:top}"
    "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f5f5f7}"
    "table.headline td{font-size:1.08em}figure{margin:1.2em 0}img{max-width:100%}"
    "figcaption{color:#444;font-size:.93em;max-width:900px}details{margin:.6em 0}"
    "summary{cursor:pointer;font-weight:600;font-size:1.1em}.scroll{max-height:520px;overflow:auto}"
)


# -- formatting ----------------------------------------------------------------------------------------------


def missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def percent(x, digits: int = 1) -> str:
    """``0.81`` → ``81.0%``; missing → ``—``."""
    return "—" if missing(x) else f"{100 * float(x):.{digits}f}%"


def interval(value, low, high) -> str:
    """``81.0% [74.2%, 87.1%]``."""
    return f"{percent(value)} [{percent(low)}, {percent(high)}]" if not missing(low) else percent(value)


def p_value(p) -> str:
    """p-values: three significant digits, scientific below 0.001; missing → ``—``."""
    if missing(p):
        return "—"
    p = float(p)
    return f"{p:.2e}" if p < 1e-3 else f"{p:.3f}"


def esc(text) -> str:
    return html.escape(str(text))


def html_table(header: list[str], rows: list[list[str]], *, numeric: set[int] = frozenset(), cls: str = "") -> str:
    head = "".join(f'<th class="{"n" if i in numeric else ""}">{esc(h)}</th>' for i, h in enumerate(header))
    body = "".join(
        "<tr>" + "".join(f'<td class="{"n" if i in numeric else ""}">{c}</td>' for i, c in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f'<table class="{cls}"><tr>{head}</tr>{body}</table>'


def awaiting(params: Params, product: str, what: str) -> str:
    """Why the run has no ``product``: the stage that writes it has not run, or is not done since a stage or the
    params it reads changed (it is removed then: :attr:`pipeline.Stage.expires`)."""
    stage = pipeline.owner(product)
    status = read_run(params.paths).get("stages", {}).get(stage, {}).get("status")
    state = f"is {status}" if status else "has not run"
    return (
        f'<p class="caveat">No {esc(what)}: {esc(stage)}, which writes {esc(product)}, {state} in this run. '
        f"Run it (make stage STAGE={esc(stage)}), or the whole run.</p>"
    )
