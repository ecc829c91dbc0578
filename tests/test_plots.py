"""helpers.plots: every figure draws from small stats tables, saves a PNG, and marks random weights."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from helpers import plots, significance, stats
from helpers.errors import AuditError

NAMES = ["Ada Artist", "Ben Brush", "Cy Canvas", "Di Drawer"]


def _texts(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.texts]


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    rng = np.random.default_rng(0)
    true = np.repeat(np.arange(4), 6)
    pred = np.where(rng.random(true.size) < 0.6, true, rng.integers(0, 4, size=true.size))
    acc = stats.accuracy_table(true, pred, NAMES, group="artists")
    random_acc = stats.accuracy_table(
        true, rng.integers(0, 4, size=true.size), list("wxyz"), group="random names"
    )
    directions = stats.normalize(rng.standard_normal((4, 8)))
    real_of, imit_of = np.repeat(np.arange(4), 3), np.repeat(np.arange(4), 6)
    real = directions[real_of] + 0.5 * rng.standard_normal((12, 8))
    imit = directions[imit_of] + 0.5 * rng.standard_normal((24, 8))
    args = (real, [NAMES[i] for i in real_of], imit, [NAMES[i] for i in imit_of], NAMES)
    return {
        "acc": acc,
        "random_acc": random_acc,
        "confusion": stats.confusion_matrix(true, pred, 4),
        "validation": significance.validation_table(*args),
        "long": significance.own_other_similarities(*args),
        "curve": stats.sample_size_curve(true, pred, 4, repeats=50),
        "vectors": imit,
        "vector_names": args[3],
        "selection": pd.DataFrame(
            {"artist": NAMES, "caption_count": [500, 20, None, 150], "selected": [True, False, False, True]}
        ),
        "manifest": _manifest(tmp_path_factory.mktemp("grid")),
    }


def _manifest(root):
    from PIL import Image

    rows = []
    for group, names in (("artists", NAMES[:2]), ("random_names", ["Xo Yu"])):
        for name in names:
            for i in range(2):
                path = f"images/{group}/{name}/{i:03d}.png"
                (root / path).parent.mkdir(parents=True, exist_ok=True)
                Image.new("RGB", (16, 16), (40 * i, 90, 10)).save(root / path)
                rows.append({"group": group, "name": name, "index": str(i), "path": path})
    return pd.DataFrame(rows), root


def _draw(kind: str, tables, **kw) -> Figure:
    if kind == "accuracy_bars":
        return plots.accuracy_bars(tables["acc"], chance=0.25, random_names=tables["random_acc"], **kw)
    if kind == "confusion_heatmap":
        return plots.confusion_heatmap(tables["confusion"], NAMES, **kw)
    if kind == "own_other_distributions":
        return plots.own_other_distributions(tables["long"], **kw)
    if kind == "sorted_pvalues":
        return plots.sorted_pvalues(tables["validation"], alpha=0.05, correction="bonferroni", **kw)
    if kind == "sample_size_curve":
        return plots.sample_size_curve(tables["curve"], chance=0.25, **kw)
    if kind == "embedding_map":
        return plots.embedding_map(tables["vectors"], tables["vector_names"], **kw)
    if kind == "selection_counts":
        return plots.selection_counts(tables["selection"], min_images=100, **kw)
    if kind == "image_grid":
        manifest, root = tables["manifest"]
        return plots.image_grid(manifest, root, per_name=2, **kw)
    raise AssertionError(kind)


KINDS = [
    "accuracy_bars",
    "confusion_heatmap",
    "own_other_distributions",
    "sorted_pvalues",
    "sample_size_curve",
    "embedding_map",
    "selection_counts",
    "image_grid",
]


def _banner(fig: Figure):
    """The header line drawn in a coloured box (the banner), as (text, box colour), or None."""
    from matplotlib.colors import to_hex

    boxed = [t for t in fig.texts if t.get_bbox_patch() is not None]
    return (boxed[0].get_text(), to_hex(boxed[0].get_bbox_patch().get_facecolor())) if boxed else None


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("weights", ["pretrained", "random", "toy"])
def test_figure_saves_a_png_and_marks_what_is_not_a_measurement(kind, weights, tables, tmp_path):
    fig = _draw(kind, tables, title=f"smoke: {kind}", weights=weights, note="real works are stand-ins")
    assert isinstance(fig, Figure)
    texts = _texts(fig)
    assert f"smoke: {kind}" in texts and "real works are stand-ins" in texts
    expected = {"pretrained": None, "random": ("RANDOM WEIGHTS", "#d62728"), "toy": ("TOY WORLD", "#b8860b")}[weights]
    banner = _banner(fig)
    if expected is None:
        assert banner is None and fig.patch.get_linewidth() == 0
    else:  # a coloured box above the title, and a frame of the same colour round the figure
        assert banner[0].startswith(expected[0]) and banner[1] == expected[1]
        assert texts.index(banner[0]) < texts.index(f"smoke: {kind}")
        from matplotlib.colors import to_hex

        assert to_hex(fig.patch.get_edgecolor()) == expected[1] and fig.patch.get_linewidth() == 6
    saved = plots.save(fig, tmp_path / "deeper" / "folder" / f"{kind}.png")
    out = saved.path
    assert out.is_file() and out.stat().st_size > 1000
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert plt.get_fignums() == []  # no pyplot figure was opened (nothing to show, nothing leaked)


def test_a_saved_figure_shows_as_its_png_in_a_notebook(tables, tmp_path):
    """IPython's display machinery (what papermill and JupyterLab use) renders a SavedFigure as image/png —
    the saved file's bytes — and never as the text '<Figure size ...>'."""
    from IPython.core.formatters import DisplayFormatter

    saved = plots.save(_draw("sample_size_curve", tables, title="t", weights="random"), tmp_path / "f.png")
    data, _ = DisplayFormatter().format(saved)
    assert data["image/png"] == (tmp_path / "f.png").read_bytes()
    assert "Figure size" not in data["text/plain"]


def test_no_note_means_no_note_line(tables):
    fig = _draw("accuracy_bars", tables, title="t", weights="pretrained")
    assert _texts(fig) == ["t"]


def test_accuracy_bars_sorts_and_draws_the_reference_lines(tables):
    fig = plots.accuracy_bars(tables["acc"], chance=0.25, random_names=0.1, title="t", weights="pretrained")
    ax = fig.axes[0]
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    expected = tables["acc"].sort_values(["accuracy", "name"], ascending=[False, True])["name"].tolist()
    assert ticks == expected
    levels = sorted(
        round(line.get_ydata()[0], 6) for line in ax.get_lines() if len(set(line.get_ydata())) == 1
    )
    mean = round(stats.mean_accuracy(tables["acc"]), 6)
    assert {0.25, 0.1, mean} <= set(levels)


def test_confusion_heatmap_orders_by_accuracy(tables):
    matrix = np.array([[1, 3, 0, 0], [0, 4, 0, 0], [2, 0, 2, 0], [0, 0, 0, 4]])
    # diagonal shares: 0.25, 1, 0.5, 1 → order Ben, Di, Cy, Ada (ties keep input order)
    fig = plots.confusion_heatmap(matrix, NAMES, title="t", weights="pretrained")
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == [
        "Ben Brush",
        "Di Drawer",
        "Cy Canvas",
        "Ada Artist",
    ]
    unordered = plots.confusion_heatmap(
        matrix, NAMES, order_by_accuracy=False, title="t", weights="pretrained"
    )
    assert [t.get_text() for t in unordered.axes[0].get_yticklabels()] == NAMES


@pytest.mark.parametrize("correction", ["bonferroni", "holm", "fdr_bh"])
def test_sorted_pvalues_threshold_line(correction, tables):
    fig = plots.sorted_pvalues(
        tables["validation"], alpha=0.05, correction=correction, title="t", weights="random"
    )
    threshold = fig.axes[0].get_lines()[0].get_ydata()
    m = len(tables["validation"])
    rank = np.arange(1, m + 1)
    expected = {"bonferroni": np.full(m, 0.05 / m), "holm": 0.05 / (m - rank + 1), "fdr_bh": 0.05 * rank / m}
    np.testing.assert_allclose(threshold, expected[correction])


def test_plots_refuse_bad_input(tables, tmp_path):
    with pytest.raises(AuditError, match="weights must be one of"):
        _draw("sample_size_curve", tables, title="t", weights="pretend")
    with pytest.raises(AuditError, match="lacks columns"):
        plots.accuracy_bars(tables["acc"].drop(columns="ci_low"), chance=0.25, title="t", weights="random")
    with pytest.raises(AuditError, match="table is empty"):
        plots.own_other_distributions(tables["long"].iloc[:0], title="t", weights="random")
    with pytest.raises(AuditError, match="unknown correction"):
        plots.sorted_pvalues(
            tables["validation"], alpha=0.05, correction="sidak", title="t", weights="random"
        )
    with pytest.raises(AuditError, match="shape"):
        plots.confusion_heatmap(tables["confusion"], NAMES[:3], title="t", weights="random")
    with pytest.raises(AuditError, match="names for"):
        plots.embedding_map(tables["vectors"], NAMES, title="t", weights="random")
    fig = _draw("sample_size_curve", tables, title="t", weights="random")
    with pytest.raises(AuditError, match="does not end in .png"):
        plots.save(fig, tmp_path / "figure.pdf")
