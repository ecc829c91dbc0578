"""helpers.plots: every figure draws from small stats tables, saves a PNG, and marks random weights."""

from __future__ import annotations

import html
import subprocess
import sys

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from helpers import plots, significance, stats
from helpers.errors import AuditError
from helpers.paths import PROJECT_ROOT

NAMES = ["Ada Artist", "Ben Brush", "Cy Canvas", "Di Drawer"]


def _texts(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.texts]


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    rng = np.random.default_rng(0)
    true = np.repeat(np.arange(4), 6)
    pred = np.where(rng.random(true.size) < 0.6, true, rng.integers(0, 4, size=true.size))
    acc = stats.accuracy_table(true, pred, NAMES, group="artists")
    random_acc = stats.accuracy_table(true, rng.integers(0, 4, size=true.size), list("wxyz"), group="random names")
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
        "ceiling": pd.DataFrame(
            {"artist": NAMES, "accuracy": [0.9, 0.4, 0.55, 0.1], "ceiling": [0.95, 0.3, np.nan, 0.6]}
        ),
        "exposure": pd.DataFrame(
            {"artist": NAMES, "caption_count": [120, 450, 3_000, 80_000], "accuracy": [0.1, 0.3, 0.2, 0.8]}
        ),
        "configs": _configs(),
        "controls": _controls(args),
    }


def _controls(args):
    from helpers import controls

    s = significance.scores(*args)
    settings = controls.ControlSettings("bonferroni", "fdr_bh", 0.05)
    pvalues = controls.run_controls(s, None, settings)
    return pvalues, controls.summarise(pvalues, settings)


def _configs(n: int = 5) -> pd.DataFrame:
    accuracy = np.linspace(0.3, 0.9, n)[np.random.default_rng(n).permutation(n)]
    return pd.DataFrame(
        {
            "config": [f"sd-v1-5 / template {k}" for k in range(n)],
            "accuracy": accuracy,
            "ci_low": accuracy - 0.05,
            "ci_high": np.minimum(accuracy + 0.05, 1),
            "accuracy_random_names": accuracy / 4,
            "chance": np.full(n, 1 / 40),
        }
    )


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
    if kind == "accuracy_vs_ceiling":
        return plots.accuracy_vs_ceiling(tables["ceiling"], **kw)
    if kind == "accuracy_vs_captions":
        return plots.accuracy_vs_captions(tables["exposure"], min_images=100, verified=True, **kw)
    if kind == "accuracy_vs_captions_unverified":
        return plots.accuracy_vs_captions(tables["exposure"], min_images=100, verified=False, **kw)
    if kind == "forest":
        return plots.forest(tables["configs"], paper=0.81, **kw)
    if kind == "calibration":
        pvalues, summary = tables["controls"]
        return plots.calibration(pvalues, summary, {"paper_test": 0.75, "artist_level": 0.5}, alpha=0.05, **kw)
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
    "accuracy_vs_ceiling",
    "accuracy_vs_captions",
    "accuracy_vs_captions_unverified",
    "forest",
    "calibration",
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


def test_a_named_figure_shows_its_caption_once_said(tables, tmp_path):
    """A figure saved under a name the captions know (as every stage saves them) is shown in a notebook with
    the report's own caption under it (text/html), the PNG still there for renderers without HTML; a figure
    of another name is the bare PNG."""
    from IPython.core.formatters import DisplayFormatter

    from helpers import report

    saved = plots.save(_draw("sample_size_curve", tables, title="t", weights="random"), tmp_path / "sample_size.png")
    data, _ = DisplayFormatter().format(saved)
    assert data["image/png"] == saved.path.read_bytes()
    assert report.FIGURE_CAPTIONS["sample_size"] == plots.CAPTIONS["sample_size"] == saved.caption
    assert html.escape(saved.caption) in data["text/html"] and "data:image/png;base64," in data["text/html"]
    other = plots.save(_draw("sample_size_curve", tables, title="t", weights="random"), tmp_path / "mine.png")
    assert "text/html" not in DisplayFormatter().format(other)[0]


def test_no_note_means_no_note_line(tables):
    fig = _draw("accuracy_bars", tables, title="t", weights="pretrained")
    assert _texts(fig) == ["t"]


def test_accuracy_bars_sorts_and_draws_the_reference_lines(tables):
    fig = plots.accuracy_bars(tables["acc"], chance=0.25, random_names=0.1, title="t", weights="pretrained")
    ax = fig.axes[0]
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    expected = tables["acc"].sort_values(["accuracy", "name"], ascending=[False, True])["name"].tolist()
    assert ticks == expected
    levels = sorted(round(line.get_ydata()[0], 6) for line in ax.get_lines() if len(set(line.get_ydata())) == 1)
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
    unordered = plots.confusion_heatmap(matrix, NAMES, order_by_accuracy=False, title="t", weights="pretrained")
    assert [t.get_text() for t in unordered.axes[0].get_yticklabels()] == NAMES


@pytest.mark.parametrize("correction", ["bonferroni", "holm", "fdr_bh"])
def test_sorted_pvalues_threshold_line(correction, tables):
    fig = plots.sorted_pvalues(tables["validation"], alpha=0.05, correction=correction, title="t", weights="random")
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
        plots.sorted_pvalues(tables["validation"], alpha=0.05, correction="sidak", title="t", weights="random")
    with pytest.raises(AuditError, match="shape"):
        plots.confusion_heatmap(tables["confusion"], NAMES[:3], title="t", weights="random")
    with pytest.raises(AuditError, match="names for"):
        plots.embedding_map(tables["vectors"], NAMES, title="t", weights="random")
    fig = _draw("sample_size_curve", tables, title="t", weights="random")
    with pytest.raises(AuditError, match="does not end in .png"):
        plots.save(fig, tmp_path / "figure.pdf")


# ----------------------------------------------------------------------------- figures of comparisons


def _legend(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.axes[0].get_legend().get_texts()]


def _vertical_lines(ax) -> list[float]:
    return [line.get_xdata()[0] for line in ax.get_lines() if len(set(line.get_xdata())) == 1]


def test_accuracy_vs_ceiling_places_artists_and_the_diagonal(tables):
    fig = plots.accuracy_vs_ceiling(tables["ceiling"], title="t", weights="pretrained")
    ax = fig.axes[0]
    # Cy Canvas has no ceiling: three points at (ceiling, accuracy), named, and a legend line saying so
    np.testing.assert_array_equal(ax.collections[0].get_offsets(), [[0.95, 0.9], [0.3, 0.4], [0.6, 0.1]])
    assert [t.get_text() for t in ax.texts] == ["Ada Artist", "Ben Brush", "Di Drawer"]
    diagonal = ax.get_lines()[0]
    assert list(diagonal.get_xdata()) == list(diagonal.get_ydata()) == [0, 1]
    legend = _legend(fig)
    assert "artists (3; 2 below the diagonal)" in legend
    assert "1 artist(s) without a ceiling, not shown" in legend


def test_accuracy_vs_ceiling_names_at_most_forty_artists():
    rng = np.random.default_rng(3)
    for n, named in ((40, 40), (41, 0)):
        names = [f"a{k}" for k in range(n)]
        table = pd.DataFrame({"artist": names, "accuracy": rng.random(n), "ceiling": rng.random(n)})
        fig = plots.accuracy_vs_ceiling(table, title="t", weights="pretrained")
        assert len(fig.axes[0].collections[0].get_offsets()) == n and len(fig.axes[0].texts) == named


def test_accuracy_vs_captions_threshold_and_spearman(tables):
    fig = plots.accuracy_vs_captions(tables["exposure"], min_images=100, verified=True, title="t", weights="random")
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    np.testing.assert_array_equal(
        ax.collections[0].get_offsets(), [[120, 0.1], [450, 0.3], [3_000, 0.2], [80_000, 0.8]]
    )
    assert _vertical_lines(ax) == [100]
    # ranks of the accuracies (1, 3, 2, 4) against (1, 2, 3, 4): Σd² = 2, ρ = 1 − 6·2/(4·15) = 0.8;
    # t = 0.8·√(2/0.36) = 1.8856 with 2 dof: p = 1 − t/√(2 + t²) = 0.2
    legend = _legend(fig)
    assert "selection: > 100 captions" in legend
    assert "Spearman ρ = 0.80, p = 0.2 (n = 4)" in legend


def test_accuracy_vs_captions_says_why_spearman_is_undefined(tables):
    two = tables["exposure"].iloc[:2]
    fig = plots.accuracy_vs_captions(two, min_images=100, verified=True, title="t", weights="pretrained")
    assert any(text.startswith("Spearman ρ undefined: x has 2 value(s)") for text in _legend(fig))


def test_accuracy_vs_captions_unverified_draws_no_points(tables):
    fig = plots.accuracy_vs_captions(
        tables["exposure"], min_images=100, verified=False, title="t", weights="pretrained"
    )
    ax = fig.axes[0]
    assert len(ax.collections) == len(ax.get_lines()) == len(ax.patches) == 0
    assert [t.get_text() for t in ax.texts] == [
        "Caption counts were not verified (no caption metadata was read):\nnothing to plot."
    ]


def test_forest_orders_configurations_and_marks_the_paper(tables):
    configs = tables["configs"]
    fig = plots.forest(configs, paper=0.81, title="t", weights="pretrained")
    ax = fig.axes[0]
    expected = configs.sort_values("accuracy", ascending=False)["config"].tolist()
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == expected
    top, bottom = ax.get_ylim()
    assert top > bottom  # the y axis runs downwards, so the first label (highest accuracy) is on top
    assert _vertical_lines(ax) == [0.81]
    legend = _legend(fig)
    assert "paper: 81.0%" in legend and "chance (1/K)" in legend and "random names" in legend
    # the estimate markers sit at the accuracies, in that order
    markers = next(line for line in ax.get_lines() if line.get_marker() == "o")
    np.testing.assert_allclose(markers.get_xdata(), sorted(configs["accuracy"], reverse=True))
    plain = plots.forest(configs[["config", "accuracy", "ci_low", "ci_high"]], title="t", weights="random")
    assert _vertical_lines(plain.axes[0]) == [] and _legend(plain) == ["mean accuracy and interval"]


def test_forest_is_readable_with_sixty_configurations(tmp_path):
    fig = plots.forest(_configs(60), paper=0.81, title="t", weights="toy")
    assert len(fig.axes[0].get_yticklabels()) == 60
    height = fig.get_size_inches()[1]
    assert 60 * 0.25 <= height <= 45  # about a quarter of an inch per row
    assert plots.save(fig, tmp_path / "forest.png").path.stat().st_size > 1000


def test_comparison_figures_refuse_bad_input(tables):
    with pytest.raises(AuditError, match="lacks columns \\['ceiling'\\]"):
        plots.accuracy_vs_ceiling(tables["ceiling"].drop(columns="ceiling"), title="t", weights="random")
    with pytest.raises(AuditError, match="no artist has both"):
        plots.accuracy_vs_ceiling(tables["ceiling"].assign(ceiling=np.nan), title="t", weights="random")
    with pytest.raises(AuditError, match="caption_count must be a positive number"):
        plots.accuracy_vs_captions(
            tables["exposure"].assign(caption_count=0), min_images=100, verified=True, title="t", weights="random"
        )
    with pytest.raises(AuditError, match="table is empty"):
        plots.forest(tables["configs"].iloc[:0], title="t", weights="random")


def test_every_public_name_resolves_and_stages_import_without_matplotlib():
    """``helpers.plots`` loads its submodules on first use: every name it lists resolves, and importing a
    stage or a CLI (a generation process, the selection and scoring CLIs) does not pay for matplotlib."""
    assert all(getattr(plots, name) is not None for name in plots.__all__)
    code = (
        "import sys\n"
        "import helpers.selection, helpers.generation, helpers.encoding, helpers.classification, helpers.validation, helpers.score\n"
        "print(sorted(m for m in ('matplotlib', 'seaborn') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]", out.stdout


def test_calibration_draws_each_control_and_the_observed_shares(tables):
    pvalues, summary = tables["controls"]
    fig = plots.calibration(
        pvalues, summary, {"paper_test": 0.75, "artist_level": 0.5}, alpha=0.05, title="t", weights="toy"
    )
    left, right = fig.axes[:2]
    drawn = {line.get_label() for line in left.get_lines()}
    assert {"paper's test (imitations as independent), deranged works", "artist-level test, deranged works"} <= drawn
    labels = [t.get_text() for t in right.get_yticklabels()]
    assert labels[0] == "paper's test: true pairing" and "artist-level: deranged works" in labels
    widths = sorted(round(bar.get_width(), 6) for bar in right.patches)
    assert 0.75 in widths and 0.5 in widths  # the true pairings' shares
    with pytest.raises(AuditError, match="lacks columns"):
        plots.calibration(pvalues.drop(columns="p_value"), summary, {}, alpha=0.05, title="t", weights="toy")


def test_importing_a_figure_module_does_not_hide_its_functions():
    """Importing a submodule sets it as an attribute of the package: a function named like its module would be
    shadowed by the module once anything imported it (an introspecting test did, and every later
    plots.calibration(...) in that process called a module). No exported name is a submodule's name."""
    import importlib

    modules = set(plots._EXPORTS.values())
    for module in modules:
        importlib.import_module(f"helpers.plots.{module}")
    assert not modules & set(plots._EXPORTS), modules & set(plots._EXPORTS)
    for name, module in plots._EXPORTS.items():
        value = getattr(plots, name)
        assert not isinstance(value, type(plots)), (name, module)
