"""``report.html``: one page a person reads — the headline against the paper, the caveats, for a sweep the
comparison of its configurations, then each configuration's figures (each with a caption saying what it
shows) and the per-artist table sorted by accuracy. Numbers are formatted; nothing is a raw dump.

Every number on the page is read from the products of the stages and of ``06_comparison``; the page
computes none.
"""

from __future__ import annotations

import base64
import html
import math

import pandas as pd

from . import classification, provenance, selection, summary, sweep, validation
from .files import write_text
from .paths import STEPS, ConfigPaths
from .record import read_run
from .schema import Configuration, Params

__all__ = ["write_report", "percent", "interval", "p_value", "FIGURE_CAPTIONS"]

FIGURE_CAPTIONS = {
    "selection_counts": "How many captions name each candidate artist (log scale). Green bars were selected; "
    "the dashed line is the threshold (strictly more captions than selection.min_images).",
    "generated_examples": "A few generated images per name, for the artists and for the random-names baseline.",
    "embedding_map": "The imitations' CLIP embeddings on their first two principal components, one colour per "
    "artist. Tight, separate clusters mean the model gives each artist a recognisable style.",
    "accuracy_per_artist": "Top-1 accuracy per artist: how often CLIP names the artist whose name was in the "
    "prompt, with a 95% interval per artist. Lines: the mean over artists, chance (1/K) and the random-names "
    "baseline.",
    "confusion": "Who is mistaken for whom: row = prompted artist, column = predicted artist, each row's shares "
    "summing to 1; ordered by accuracy.",
    "sample_size": "Mean accuracy had each artist only n images (seeded subsamples, with their spread): how "
    "stable the headline is for the number of images generated.",
    "accuracy_vs_ceiling": "Each artist's imitation accuracy against the ceiling: how often CLIP names the artist "
    "from their real works with the same label prompts. On the diagonal, imitations are as recognisable as "
    "the originals.",
    "accuracy_vs_captions": "Per-artist accuracy against the number of captions naming the artist (log scale), "
    "with the selection threshold and Spearman's rank correlation: does exposure in the training captions "
    "make imitation work better?",
    "own_vs_other": "Validation: for each artist, the similarity of their real works to their own imitations "
    "(green) and to every other artist's (grey). Own above other means the imitations resemble the real work.",
    "pvalues": "The one-sided rank-sum test's p-value per artist (log scale), against the corrected threshold; "
    "filled points are significant.",
    "forest": "Mean top-1 accuracy over artists per configuration, with its bootstrap interval over artists; "
    "the dashed line is the paper's 81.0%.",
}
_STYLE = (
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


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def percent(x, digits: int = 1) -> str:
    """``0.81`` → ``81.0%``; missing → ``—``."""
    return "—" if _missing(x) else f"{100 * float(x):.{digits}f}%"


def interval(value, low, high) -> str:
    """``81.0% [74.2%, 87.1%]``."""
    return f"{percent(value)} [{percent(low)}, {percent(high)}]" if not _missing(low) else percent(value)


def p_value(p) -> str:
    """p-values: three significant digits, scientific below 0.001; missing → ``—``."""
    if _missing(p):
        return "—"
    p = float(p)
    return f"{p:.2e}" if p < 1e-3 else f"{p:.3f}"


def _e(text) -> str:
    return html.escape(str(text))


def _table(header: list[str], rows: list[list[str]], *, numeric: set[int] = frozenset(), cls: str = "") -> str:
    head = "".join(f'<th class="{"n" if i in numeric else ""}">{_e(h)}</th>' for i, h in enumerate(header))
    body = "".join(
        "<tr>" + "".join(f'<td class="{"n" if i in numeric else ""}">{c}</td>' for i, c in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f'<table class="{cls}"><tr>{head}</tr>{body}</table>'


def _figure(path, caption: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return (f'<figure><img alt="{_e(path.stem)}" src="data:image/png;base64,{data}">'
            f"<figcaption><b>{_e(path.stem)}</b> — {_e(caption)}</figcaption></figure>")  # fmt: skip


# -- sections ------------------------------------------------------------------------------------------------


def _headline(numbers: dict) -> str:
    paper = summary.PAPER
    n_val = numbers.get("n_validated") or 0
    signif = numbers.get("fraction_significant")
    count = f" ({round(signif * n_val)} of {n_val} artists)" if not _missing(signif) and n_val else ""
    rows = [
        ["Mean top-1 accuracy over artists", interval(numbers["accuracy"], numbers["accuracy_ci_low"],
                                                      numbers["accuracy_ci_high"]), percent(paper["accuracy"])],
        ["Same for random names (baseline)", interval(numbers["accuracy_random_names"],
                                                      numbers.get("accuracy_random_names_ci_low"),
                                                      numbers.get("accuracy_random_names_ci_high")),
         percent(paper["accuracy_random_names"])],
        ["Chance, 1/K", percent(numbers["chance"]), percent(paper["chance"])],
        [f"Artists significant ({_e(numbers['correction'])}, α = {numbers['alpha']:g})", percent(signif, 0) + count,
         percent(paper["fraction_significant"], 0)],
        ["Same, centred statistic (hubness-corrected)", percent(numbers.get("fraction_significant_centered"), 0), "—"],
        ["Ceiling: artists named from their real works", percent(numbers.get("ceiling_accuracy")), "—"],
        ["Imitation accuracy ÷ ceiling", "—" if _missing(numbers.get("accuracy_vs_ceiling"))
         else f"{numbers['accuracy_vs_ceiling']:.2f}", "—"],
        ["Exposure: Spearman ρ of accuracy and caption count",
         "—" if _missing(numbers.get("spearman_caption_count")) else
         f"{numbers['spearman_caption_count']:+.2f} (p = {p_value(numbers['spearman_caption_count_p'])})", "—"],
    ]  # fmt: skip
    table = _table(["", "this run", "paper"], rows, numeric={1, 2}, cls="headline")
    return table + f'<p class="sub">{numbers["n_artists"]} artists, {numbers["images_per_artist"]} images each; paper: {paper["n_artists"]} artists ({_e(paper["source"])}).</p>'


def _artists(params: Params, paths: ConfigPaths) -> str:
    """Per-artist accuracy (sorted, highest first) with the ceiling, caption count and validation."""
    acc = classification.read_accuracy(paths)
    acc = acc[acc["group"] == "artists"].set_index("name")
    counts = selection.read_artists(params.paths).set_index("artist")["caption_count"]
    ceiling = classification.read_ceiling(paths).set_index("artist")["accuracy"] if paths.table("ceiling.csv").is_file() else pd.Series(dtype=float)
    val = validation.read_validation(paths).set_index("artist")
    cen = validation.read_validation(paths, centered=True).set_index("artist")
    order = acc.sort_values(["accuracy", "n_images"], ascending=[False, False]).index
    rows = []
    for artist in order:
        a = acc.loc[artist]
        rows.append([
            _e(artist), interval(a["accuracy"], a["ci_low"], a["ci_high"]), f"{a['n_correct']} / {a['n_images']}",
            percent(ceiling.get(artist)), _e(counts.get(artist, "") or "—"),
            p_value(val["p_adjusted"].get(artist)), "yes" if val["significant"].get(artist, False) else "no" if artist in val.index else "—",
            "yes" if cen["significant"].get(artist, False) else "no" if artist in cen.index else "—",
        ])  # fmt: skip
    header = ["artist", "accuracy [interval]", "correct", "ceiling", "captions", "p (corrected)", "significant",
              "significant, centred"]  # fmt: skip
    return f'<div class="scroll">{_table(header, rows, numeric={1, 2, 3, 4, 5})}</div>'


def _config_section(params: Params, config: Configuration, *, headline: bool = True) -> str:
    paths = params.paths.config(config.name)
    parts = []
    if headline and paths.summary_json.is_file():
        parts.append(_headline(summary.read_summary(paths)))
    for name, caption in FIGURE_CAPTIONS.items():
        if name not in ("selection_counts", "forest") and paths.figure(name).is_file():
            parts.append(_figure(paths.figure(name), caption))
    if paths.table("accuracy.csv").is_file() and paths.table("validation.csv").is_file():
        parts.append("<h3>Per artist, by accuracy</h3>" + _artists(params, paths))
    return "".join(parts)


def _sweep(params: Params) -> str:
    paths = params.paths
    tables = sweep.read_tables(paths)
    if tables is None:
        return "<p>The comparison of the configurations has not run yet (06_comparison).</p>"
    table, paired, spread = tables
    table = table.sort_values("accuracy", ascending=False)
    rows = [[_e(r.config), _e(r.generator), _e(r.encoder), f"t: {_e(r.template)}<br>l: {_e(r.label_template)}", _e(r.seed),
             interval(r.accuracy, r.accuracy_ci_low, r.accuracy_ci_high), percent(r.accuracy_random_names),
             percent(r.chance), percent(r.fraction_significant, 0)]
            for r in table.itertuples()]  # fmt: skip
    parts = ["<h2>Configurations compared</h2>",
             _table(["config", "generator", "encoder", "template / label template", "seed", "accuracy [interval]",
                     "random names", "chance", "significant"], rows, numeric={5, 6, 7, 8})]  # fmt: skip
    if paths.figure("forest").is_file():
        parts.append(_figure(paths.figure("forest"), FIGURE_CAPTIONS["forest"]))
    if len(paired):
        rows = [[_e(r.config_a), _e(r.config_b), _e(r.differs_in), f"{100 * r.difference:+.1f} pts "
                 f"[{100 * r.ci_low:+.1f}, {100 * r.ci_high:+.1f}]", p_value(r.p_value), _e(r.method)]
                for r in paired.itertuples()]  # fmt: skip
        parts += ["<h3>Paired differences (configurations that differ in one thing)</h3>",
                  _table(["a", "b", "differs in", "accuracy a − b [interval]", "p", "test"], rows, numeric={3, 4})]
    if len(spread):
        rows = [[_e(r.configs), _e(int(r.n_seeds)), percent(r.mean), f"{100 * r.sd:.1f} pts",
                 f"{percent(r.min)} – {percent(r.max)}", f"±{100 * r.mean_ci_half_width:.1f} pts"]
                for r in spread.itertuples()]  # fmt: skip
        parts += ["<h3>Seed to seed</h3>", _table(["configurations", "seeds", "mean accuracy", "sd over seeds",
                                                   "range", "interval over artists (mean half-width)"], rows, numeric={1, 2, 3, 5})]  # fmt: skip
    return "".join(parts)


def _stages(params: Params) -> str:
    stages = read_run(params.paths).get("stages", {})
    items = []
    for stage in STEPS:
        if stage not in stages:
            continue
        status = stages[stage].get("status", "not run")
        links = "".join(f' <a href="notebooks/{stage}{ext}">{ext[1:]}</a>' for ext in (".html", ".ipynb")
                        if params.paths.notebook(stage, ext).is_file())  # fmt: skip
        items.append(f"<li>{_e(stage)}: {_e(status)}{' — executed notebook:' + links if links else ''}</li>")
    return "<h2>Stages</h2><ul>" + "".join(items) + "</ul>"


def write_report(params: Params) -> None:
    """Write ``report.html`` (see the module docstring)."""
    paths, configs = params.paths, params.configurations
    kind = provenance.weights(params)
    parts = [f"<h1>imitation-audit · run <code>{_e(params.run)}</code></h1>"]
    if params.description:
        parts.append(f'<p class="sub">{_e(params.description)}</p>')
    if len(configs) == 1 and paths.summary_json.is_file():
        parts += ["<h2>Headline: this run against the paper</h2>", _headline(summary.read_summary(paths))]
    parts += [f'<p class="caveat{" toy" if kind == "toy" and c == provenance.TOY_WORLD_NOTE else ""}">{_e(c)}</p>'
              for c in provenance.caveats(params)]  # fmt: skip
    if len(configs) > 1:
        parts.append(_sweep(params))
    if paths.figure("selection_counts").is_file():
        parts += ["<h2>Selection</h2>", _figure(paths.figure("selection_counts"), FIGURE_CAPTIONS["selection_counts"])]
    if len(configs) == 1:
        parts += ["<h2>Results</h2>", _config_section(params, configs[0], headline=False)]
    else:
        parts.append("<h2>Each configuration</h2>")
        for i, config in enumerate(configs):
            parts.append(f"<details{' open' if i == 0 else ''}><summary>{_e(config.name)}</summary>"
                         f"{_config_section(params, config)}</details>")  # fmt: skip
    parts.append(_stages(params))
    page = (f'<!doctype html><html><head><meta charset="utf-8"><title>imitation-audit: {_e(params.run)}</title>'
            f'<style>{_STYLE}</style></head><body>{"".join(parts)}</body></html>\n')  # fmt: skip
    write_text(paths.report_html, page)
