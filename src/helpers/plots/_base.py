"""What every figure shares: the header (banner, title, note) above one axes, the table check, and saving
as PNG."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from ..errors import AuditError

RANDOM_BANNER = "RANDOM WEIGHTS — not a measurement of any real model"
TOY_BANNER = "TOY WORLD — fictional artists, models trained here"

_WEIGHTS = ("pretrained", "random", "toy")
_BANNERS = {"random": (RANDOM_BANNER, "#d62728"), "toy": (TOY_BANNER, "#b8860b")}
_LINE_IN = 0.34  # height of one header line, inches
_MAX_TICK_LABELS = 80  # beyond this many names, tick labels are unreadable and are left out
_LEGEND_OUTSIDE = {"loc": "upper left", "bbox_to_anchor": (1.01, 1.0), "fontsize": 8}


class SavedFigure:
    """A figure written as a PNG file: shown as that image when it is a notebook cell's last value, with its
    caption (:data:`helpers.plots.captions.CAPTIONS`, by the file's stem) under it where the notebook renders
    HTML (JupyterLab, nbconvert); the bare PNG stays in the output for everything else."""

    def __init__(self, path: Path):
        self.path = Path(path)

    @property
    def caption(self) -> str:
        from .captions import CAPTIONS

        return CAPTIONS.get(self.path.stem, "")

    def _repr_png_(self) -> bytes:
        return self.path.read_bytes()

    def _repr_html_(self) -> str | None:
        from .captions import figure_html

        return figure_html(self.path, self.caption, inline_style=True) if self.caption else None

    def __repr__(self) -> str:
        return f"SavedFigure({str(self.path)!r})"


class InlineFigure:
    """A figure shown as a PNG image when it is a notebook cell's last value, without a file (exploration)."""

    def __init__(self, fig: Figure):
        import io

        buf = io.BytesIO()
        fig.savefig(buf, dpi=110, format="png")
        self.png = buf.getvalue()

    def _repr_png_(self) -> bytes:
        return self.png

    def __repr__(self) -> str:
        return f"InlineFigure({len(self.png)} bytes of PNG)"


def inline(fig: Figure) -> InlineFigure:
    """``fig`` as an image for a notebook, written nowhere."""
    return InlineFigure(fig)


def save(fig: Figure, path: str | Path) -> SavedFigure:
    """Write ``fig`` as a PNG at 120 dpi to ``path`` (parent folders created) and close it; the result shows
    the PNG in a notebook."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise AuditError(f"{path} does not end in .png", where="plots.save", fix="save figures as .png files")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120, format="png")
    if fig.canvas.manager is not None:  # a pyplot-managed figure: drop pyplot's reference too
        import matplotlib.pyplot as plt

        plt.close(fig)
    return SavedFigure(path)


def _figure(width: float, height: float, *, title: str, weights: str, note: str | None, ncols: int = 1):
    """A figure whose top holds the header lines (banner, title, note) and whose rest holds one axes (or a
    row of ``ncols`` axes)."""
    if weights not in _WEIGHTS:
        raise AuditError(
            f"weights must be one of {list(_WEIGHTS)}, got {weights!r}",
            where="plots",
            fix="pass helpers.provenance.weights(params)",
        )
    banner = _BANNERS.get(weights)
    lines = [(banner[0], "banner")] if banner else []
    lines.append((str(title), "title"))
    if note:
        lines.append((str(note), "note"))
    header = 0.12 + _LINE_IN * len(lines)
    width = max(width, 8.5)  # room for the banner's full text
    fig = Figure(figsize=(width, height + header), layout="constrained")
    fig.get_layout_engine().set(rect=(0, 0, 1, height / (height + header)))
    style = {
        "banner": {
            "color": "white",
            "fontsize": 13,
            "fontweight": "bold",
            "bbox": {
                "facecolor": banner and banner[1],
                "edgecolor": banner and banner[1],
                "boxstyle": "square,pad=0.3",
            },
        },
        "title": {"fontsize": 12, "fontweight": "bold"},
        "note": {"fontsize": 10, "fontstyle": "italic", "color": "#444444"},
    }
    for i, (text, kind) in enumerate(lines):
        y = 1 - (0.08 + _LINE_IN * (i + 0.5)) / (height + header)
        fig.text(0.5, y, text, ha="center", va="center", **style[kind])
    if banner:
        fig.patch.set_edgecolor(banner[1])
        fig.patch.set_linewidth(6)
    return fig, (fig.add_subplot() if ncols == 1 else fig.subplots(1, ncols))


def _columns(table: pd.DataFrame, needed, where: str, source: str) -> pd.DataFrame:
    missing = [c for c in needed if c not in getattr(table, "columns", ())]
    if missing:
        raise AuditError(f"the table lacks columns {missing}", where=where, fix=f"pass a table from {source}")
    if len(table) == 0:
        raise AuditError("the table is empty", where=where, fix=f"pass a non-empty table from {source}")
    return table
