"""The run's summary: ``summary.json`` (the numbers) and ``report.html`` (one page to read them).

Every number in the summary comes from a table the stages wrote, and each of those from the saved
embeddings through :mod:`helpers.stats` — the README's "How the numbers are computed" gives the formulas.
"""

from __future__ import annotations

import base64
import html
import json
import math

from . import classification, provenance, validation
from .files import read_table, write_json, write_text
from .paths import STAGES
from .record import read_run
from .schema import Configuration, Params

__all__ = ["PAPER", "against_paper", "write_summary", "write_summaries", "write_report"]

PAPER = {
    "accuracy": 0.810,
    "accuracy_random_names": 0.086,
    "chance": 1 / 70,
    "fraction_significant": 0.90,
    "n_artists": 70,
    "source": "Casper et al. 2023, arXiv 2307.04028",
}
"""The paper's reported numbers, for comparison only; nothing is computed from them."""

def against_paper(headline: dict[str, dict]):
    """This run's accuracies and chance beside the paper's, as percentages (a styled table for notebooks);
    ``headline`` is stage 04's per-group headline numbers."""
    import pandas as pd

    art, rnd = headline["artists"], headline["random_names"]
    table = pd.DataFrame(
        {
            "this run": [art["accuracy"], rnd["accuracy"], art["chance"]],
            "paper": [PAPER["accuracy"], PAPER["accuracy_random_names"], PAPER["chance"]],
        },
        index=["mean top-1 accuracy, artists", "mean top-1 accuracy, random names", "chance 1/K"],
    )
    return table.style.format("{:.1%}")


def _clean(obj):
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_clean(v) for v in obj]
    return obj


def _model(record: dict, role: str) -> dict:
    """The identity of a model (name, source, id, tag, revision); full configs stay in run.json."""
    spec = record.get("models", {}).get(role) or {}
    return {k: spec[k] for k in ("name", "source", "model", "pretrained", "revision", "path") if k in spec}


def _summary(params: Params, config: Configuration, record: dict) -> dict:
    paths = params.paths.config(config.name)
    cls = classification.read_headline(paths)
    art, rnd = cls["artists"], cls["random_names"]
    top = f"top{params.classification.top_k}_accuracy"
    return _clean({
        "run": params.run,
        **({"config": config.name} if config.name else {}),
        "weights": provenance.weights(params, config),
        "caveats": provenance.caveats(params, config),
        "n_artists": art["n_names"],
        "n_random_names": rnd["n_names"],
        "images_per_artist": params.generation.images_per_name,
        "accuracy": art["accuracy"],
        "accuracy_ci_low": art["accuracy_ci_low"],
        "accuracy_ci_high": art["accuracy_ci_high"],
        "accuracy_pooled": art["accuracy_pooled"],
        top: art[top],
        "permutation_p": art["permutation_p"],
        "accuracy_random_names": rnd["accuracy"],
        "accuracy_random_names_ci_low": rnd["accuracy_ci_low"],
        "accuracy_random_names_ci_high": rnd["accuracy_ci_high"],
        "chance": art["chance"],
        "chance_random_names": rnd["chance"],
        "confidence": params.classification.confidence,
        **validation.read_headline(paths),
        "selection_verified": params.selection.metadata is not None,
        "template": config.template,
        "label_template": config.label_template,
        "generator": _model(record, "generator"),
        "encoder": _model(record, "encoder"),
        "seed": config.seed,
        "paper": PAPER,
    })  # fmt: skip


def write_summaries(params: Params) -> dict[str | None, dict]:
    """Compose and write every configuration's ``summary.json`` from the products of stages 04 and 05 (their
    headline numbers) and the run record; returns them by configuration."""
    record = read_run(params.paths)
    out = {}
    for config in params.configurations:
        out[config.name] = _summary(params, config, record)
        write_json(params.paths.config(config.name).summary_json, out[config.name])
    return out


def write_summary(params: Params) -> dict:
    """Write every ``summary.json`` (:func:`write_summaries`) and return the first configuration's: the one
    call a notebook makes."""
    return next(iter(write_summaries(params).values()))


def _figure(path) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<figure><img alt="{html.escape(path.stem)}" src="data:image/png;base64,{data}"><figcaption>{html.escape(path.name)}</figcaption></figure>'


def write_report(params) -> None:
    """Write ``report.html``: caveats, the summary, every figure, the tables and each stage's notebook."""
    paths = params.paths
    summary = json.loads(paths.summary_json.read_text(encoding="utf-8")) if paths.summary_json.is_file() else {}
    stages = read_run(paths).get("stages", {})
    parts = [f"<h1>imitation-audit · run <code>{html.escape(params.run)}</code></h1>"]
    parts += [f'<p class="caveat">{html.escape(c)}</p>' for c in provenance.caveats(params)]
    rows = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(json.dumps(v, ensure_ascii=False))}</td></tr>"
        for k, v in summary.items()
        if k != "paper"
    )
    parts.append(f"<h2>Summary</h2><table>{rows}</table>")
    if "paper" in summary:
        paper = summary["paper"]
        parts.append(
            "<p>The paper reports: mean top-1 accuracy {:.1%}; random names {:.1%}; chance {:.1%}; "
            "p &lt; 0.05 for {:.0%} of artists ({}).</p>".format(
                paper["accuracy"], paper["accuracy_random_names"], paper["chance"], paper["fraction_significant"], html.escape(paper["source"])
            )
        )
    parts.append("<h2>Stages</h2><ul>")
    for stage in STAGES:
        status = stages.get(stage, {}).get("status", "not run")
        nb = paths.notebook(stage)
        link = ""
        if nb.is_file():
            link = f' — executed notebook: <a href="notebooks/{stage}.html">HTML</a>, <a href="notebooks/{stage}.ipynb">ipynb</a>'
            if not nb.with_suffix(".html").is_file():
                link = f' — <a href="notebooks/{stage}.ipynb">executed notebook</a>'

        parts.append(f"<li>{stage}: {html.escape(status)}{link}</li>")
    parts.append("</ul><h2>Figures</h2>")
    parts += [_figure(p) for p in sorted(paths.figures.glob("*.png"))]
    for name in ("accuracy.csv", "validation.csv"):
        table = paths.table(name)
        if table.is_file():
            parts.append(f"<h2>{name}</h2>" + read_table(table).to_html(index=False, border=0))
    style = (
        "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}"
        ".caveat{background:#b00020;color:#fff;padding:.6em 1em;font-weight:bold}"
        "table{border-collapse:collapse}td,th{border-bottom:1px solid #ddd;padding:.2em .6em;text-align:left}"
        "img{max-width:100%}"
    )
    page = f'<!doctype html><html><head><meta charset="utf-8"><title>imitation-audit: {html.escape(params.run)}</title><style>{style}</style></head><body>{"".join(parts)}</body></html>\n'
    write_text(paths.report_html, page)
