"""``report.html`` page by page: one page a person reads — the headline against the paper, the caveats, for a sweep the
comparison of its configurations, then each configuration's figures (each with a caption saying what it
shows), the artists whose classification and validation disagree (:func:`disagreements`), and the
per-artist table sorted by accuracy. Numbers are formatted; nothing is a raw dump.

Every number on the page is read from the products of the stages and of ``06_comparison``; the page
computes none (the disagreement table only compares two of them, per artist).
"""

from __future__ import annotations

import pandas as pd

from .. import classification, provenance, selection, summary, validation
from ..exposure import ThresholdFit
from ..files import write_text
from ..paper import PAPER
from ..paths import ConfigPaths
from ..pipeline import STEPS
from ..record import read_run
from ..schema import Configuration, Params
from .format import (
    DISAGREEMENT_COLUMNS,
    FIGURE_CAPTIONS,
    NAMED_AT,
    STYLE,
    awaiting,
    esc,
    figure_html,
    html_table,
    interval,
    missing,
    p_value,
    percent,
)
from .sweep import sweep_section

__all__ = ["write_report", "disagreements"]

# -- sections ------------------------------------------------------------------------------------------------


def _threshold(numbers: dict) -> str:
    """``112 captions for 50% [60, 240]``, or why there is none."""
    fit = numbers.get("exposure_threshold")
    if not fit:
        return "—"
    if fit.get("threshold") is None:
        return esc(fit.get("note") or "no threshold")
    shown = ThresholdFit.from_dict(fit).shown
    bounds = " – ".join(shown(v) for v in (fit["ci_low"], fit["ci_high"]))
    return f"{fit['threshold']:.0f} captions for {percent(fit['level'], 0)} [{bounds}]" + (
        " (extrapolated)" if fit.get("extrapolated") else ""
    )


def _significant(numbers: dict, key: str) -> str:
    """``87% (20 of 23 artists)``, with the interval when the summary has one."""
    share, n_val = numbers.get(key), numbers.get("n_validated") or 0
    if missing(share):
        return "—"
    text = percent(share, 0)
    if not missing(numbers.get(f"{key}_ci_low")):
        text += f" [{percent(numbers[f'{key}_ci_low'], 0)}, {percent(numbers[f'{key}_ci_high'], 0)}]"
    return text + (f" ({round(share * n_val)} of {n_val} artists)" if n_val else "")


def _false_positives(numbers: dict, test: str) -> str:
    """The false-positive rate of ``test`` on deranged real works, its interval and the family-wise error."""
    rate = numbers.get(f"false_positive_rate_{test}")
    if missing(rate):
        return "— (no negative control)"
    return (
        f"{interval(rate, numbers[f'false_positive_rate_{test}_ci_low'], numbers[f'false_positive_rate_{test}_ci_high'])}"
        f"; at least one in {percent(numbers[f'familywise_error_{test}'], 0)} of derangements"
    )


def _resolution(numbers: dict) -> str:
    """The artist-level test's bound (:func:`helpers.artist_level.resolution`): its smallest p-value and the
    fewest artists it names whenever it names any; ``—`` for a summary without it."""
    min_p, named = numbers.get("artist_level_min_p"), numbers.get("artist_level_min_named")
    if missing(min_p):
        return "—"
    text = f"smallest p-value {p_value(min_p)}: "
    if named is None:
        return (
            text
            + f"it can name no artist under {esc(numbers['artist_level_correction'])} (use fdr_bh, or more artists)"
        )
    if named == 1:
        return text + "a lone artist can be named"
    return text + f"it names no artist or at least {named} together, so a lone imitated artist goes unnamed"


_ORIGIN_LABELS = {
    "metadata": "sampled from the caption metadata (possibly training images)",
    "folder": "a user's folder",
    "toyworld": "the toy world's held-out works",
    "standin": "stand-ins made by the generator",
}


def _by_origin(numbers: dict) -> list[list[str]]:
    """Both tests' share of significant artists for the real works of each origin, when there are several."""
    rows = []
    for origin, part in (numbers.get("by_origin") or {}).items():
        label = " and ".join(_ORIGIN_LABELS.get(o, o) for o in origin.split("+"))
        rows.append(
            [
                f"&nbsp;&nbsp;real works {esc(label)}: significant, artist-level / paper's test",
                f"{percent(part['fraction_significant_artist_level'], 0)} / {percent(part['fraction_significant'], 0)}"
                f" ({part['n_validated']} artists)",
                "—",
            ]
        )
    return rows


def _origins(params: Params) -> set[str]:
    """The origins of the real works every configuration validated (from its summary)."""
    found = set()
    for config in params.configurations:
        paths = params.paths.config(config.name)
        if paths.summary_json.is_file():
            found |= set(summary.read_summary(paths).get("real_work_origins", {}))
    return found


_METHOD_WORDS = {"zero-shot": "zero-shot among the label prompts", "reference": "attributed by reference works"}


def _reference_rows(numbers: dict) -> list[list[str]]:
    """The rows only attribution by reference works has: the random names' attraction, retrieval, ROC-AUC and
    the deranged-references control."""
    ref, pulled = numbers.get("reference"), numbers.get("random_names_attraction")
    if not ref:
        return []
    ks = sorted(int(k.rsplit("_", 1)[1]) for k in ref if k.startswith("recall_at_"))
    control = ref["control"]
    rows = [
        [
            "&nbsp;&nbsp;random names attributed among the artists: largest share",
            "—"
            if not pulled or missing(pulled.get("max_share"))
            else f"{percent(pulled['max_share'])} ({esc(pulled['max_share_artist'])}; chance {percent(pulled['chance'])})",
            "—",
        ],
        [
            "Retrieval, imitation as query, references as gallery: recall@k",
            " · ".join(f"@{k} {percent(ref[f'recall_at_{k}'])}" for k in ks),
            "—",
        ],
        ["&nbsp;&nbsp;mAP@k", " · ".join(f"@{k} {percent(ref[f'map_at_{k}'])}" for k in ks), "—"],
        [
            "ROC-AUC, own artist's references vs others'",
            "—" if missing(ref.get("roc_auc")) else f"{ref['roc_auc']:.3f}",
            "—",
        ],
        [
            f"Artists attributed above chance ({esc(ref['significance_test'])})",
            percent(ref["fraction_significant_binomial"], 0),
            "—",
        ],
        [
            "&nbsp;&nbsp;with deranged references: accuracy; false positives",
            "—"
            if missing(control.get("accuracy"))
            else f"{percent(control['accuracy'])}; {percent(control['false_positive_rate'])} "
            f"(family-wise {percent(control['family_wise_error'], 0)}, {control['n_shifts']} shifts)",
            "—",
        ],
        [
            "References / held-out works (never the same; held-out ones validate)",
            f"{ref['n_references']} / {ref['n_held_out']} (share {ref['reference_share']:g}, seed {ref['split_seed']})",
            "—",
        ],
    ]
    return rows


def _headline(numbers: dict) -> str:
    paper = PAPER
    alpha = numbers["alpha"]
    method = numbers.get("method", "zero-shot")
    rows = [
        [
            f"Mean top-1 accuracy over artists ({_METHOD_WORDS.get(method, method)})",
            interval(numbers["accuracy"], numbers["accuracy_ci_low"], numbers["accuracy_ci_high"]),
            percent(paper["accuracy"]),
        ],
        [
            "Same for random names (baseline)",
            interval(
                numbers["accuracy_random_names"],
                numbers.get("accuracy_random_names_ci_low"),
                numbers.get("accuracy_random_names_ci_high"),
            ),
            percent(paper["accuracy_random_names"]),
        ],
        ["Chance, 1/K", percent(numbers["chance"]), percent(paper["chance"])],
        *_reference_rows(numbers),
        [
            f"<b>Artists significant, artist-level test</b> (artists as units; {esc(numbers['artist_level_correction'])}, "
            f"α = {alpha:g})",
            _significant(numbers, "fraction_significant_artist_level"),
            "—",
        ],
        ["&nbsp;&nbsp;its false positives on deranged real works", _false_positives(numbers, "artist_level"), "—"],
        ["&nbsp;&nbsp;what it can say with these artists", _resolution(numbers), "—"],
        [
            f"Artists significant, paper's test (imitations as independent; {esc(numbers['correction'])}, α = {alpha:g})",
            _significant(numbers, "fraction_significant"),
            percent(paper["fraction_significant"], 0),
        ],
        [
            "&nbsp;&nbsp;its false positives on deranged real works",
            _false_positives(numbers, "paper_test"),
            "not measured",
        ],
        *_by_origin(numbers),
        [
            "Artists whose real works are closest to their own imitations",
            "—"
            if missing(numbers.get("identification_rate"))
            else f"{percent(numbers['identification_rate'], 0)} (chance {percent(numbers['identification_chance'])}, "
            f"p = {p_value(numbers['identification_p'])})",
            "—",
        ],
        [
            "Paper's test on the centred statistic (hubness-corrected)",
            percent(numbers.get("fraction_significant_centered"), 0),
            "—",
        ],
        ["Ceiling: artists named from their real works", percent(numbers.get("ceiling_accuracy")), "—"],
        [
            "Imitation accuracy ÷ ceiling",
            "—" if missing(numbers.get("accuracy_vs_ceiling")) else f"{numbers['accuracy_vs_ceiling']:.2f}",
            "—",
        ],
        [
            "Exposure: Spearman ρ of accuracy and caption count",
            "—"
            if missing(numbers.get("spearman_caption_count"))
            else f"{numbers['spearman_caption_count']:+.2f} (p = {p_value(numbers['spearman_caption_count_p'])})",
            "—",
        ],
        ["Exposure threshold: captions for the fitted accuracy to reach the level", _threshold(numbers), "—"],
    ]
    table = html_table(["", "this run", "paper"], rows, numeric={1, 2}, cls="headline")
    control = f'<p class="sub">Negative control: {esc(numbers.get("negative_control", "none"))}.</p>'
    return (
        table
        + control
        + f'<p class="sub">{numbers["n_artists"]} artists, {numbers["images_per_artist"]} images each; paper: {paper["n_artists"]} artists ({esc(paper["source"])}).</p>'
    )


def _yes(flag) -> str:
    return "—" if flag is None or pd.isna(flag) else "yes" if flag else "no"


def _artists(params: Params, paths: ConfigPaths) -> str:
    """Per-artist accuracy (sorted, highest first) with the ceiling, caption count and both validation tests."""
    acc = classification.read_accuracy(paths)
    acc = acc[acc["group"] == "artists"].set_index("name")
    counts = selection.read_artists(params.paths).set_index("artist")["caption_count"]
    ceiling = (
        classification.read_ceiling(paths).set_index("artist")["accuracy"]
        if paths.table("ceiling.csv").is_file()
        else pd.Series(dtype=float)
    )
    val = validation.read_validation(paths).set_index("artist")
    cen = validation.read_validation(paths, centered=True).set_index("artist")
    order = acc.sort_values(["accuracy", "n_images"], ascending=[False, False]).index
    rows = []
    for artist in order:
        a = acc.loc[artist]
        v = val.loc[artist] if artist in val.index else None
        effect = (
            "—"
            if v is None
            else (f"{v['effect_artist_level']:+.3f} [{v['effect_ci_low']:+.3f}, {v['effect_ci_high']:+.3f}]")
        )
        rows.append(
            [
                esc(artist),
                interval(a["accuracy"], a["ci_low"], a["ci_high"]),
                f"{a['n_correct']} / {a['n_images']}",
                percent(ceiling.get(artist)),
                "—" if pd.isna(counts.get(artist, pd.NA)) else str(int(counts[artist])),
                "—" if v is None else p_value(v["p_adjusted_artist_level"]),
                _yes(None if v is None else v["significant_artist_level"]),
                effect,
                "—" if v is None else p_value(v["p_adjusted_paper_test"]),
                _yes(None if v is None else v["significant_paper_test"]),
                _yes(cen["significant_paper_test"].get(artist)),
            ]
        )
    header = [
        "artist",
        "accuracy [interval]",
        "correct",
        "ceiling",
        "captions",
        "artist-level p (corrected)",
        "significant, artist-level",
        "effect Δ [interval]",
        "paper's test p (corrected)",
        "significant, paper's test",
        "paper's test, centred",
    ]
    return f'<div class="scroll">{html_table(header, rows, numeric={1, 2, 3, 4, 5, 7, 8})}</div>'


def disagreements(accuracy: pd.DataFrame, validated: pd.DataFrame, cases: dict[str, str] | None = None) -> pd.DataFrame:
    """The artists whose classification and validation disagree (:data:`DISAGREEMENT_COLUMNS`): *named, not
    validated* — accuracy at least :data:`NAMED_AT` but not significant by the artist-level test (an impostor's
    signature: the model learnt the name as someone else's style) — and *validated, not named* — significant
    but accuracy under :data:`NAMED_AT` (the imitation resembles the real work, the encoder cannot name it).
    ``accuracy`` and ``validated`` are the artists' rows of ``accuracy.csv`` and ``validation.csv``; ``cases``
    the ground truth by artist where the candidates file has a ``case`` column (a toy world)."""
    acc = accuracy[accuracy["group"] == "artists"].set_index("name")["accuracy"]
    val = validated.set_index("artist")
    rows = []
    for artist in val.index.intersection(acc.index):
        verdict = val.at[artist, "significant_artist_level"]
        if pd.isna(verdict):  # too few artists for the artist-level test: no verdict to disagree with
            continue
        named, significant = acc[artist] >= NAMED_AT, bool(verdict)
        if named == significant:
            continue
        rows.append(
            {
                "artist": artist,
                "case": (cases or {}).get(artist, ""),
                "accuracy": float(acc[artist]),
                "significant_artist_level": significant,
                "p_adjusted_artist_level": float(val.at[artist, "p_adjusted_artist_level"]),
                "significant_paper_test": bool(val.at[artist, "significant_paper_test"]),
                "disagreement": "named, not validated" if named else "validated, not named",
            }
        )
    return pd.DataFrame(rows, columns=list(DISAGREEMENT_COLUMNS)).sort_values(
        ["disagreement", "accuracy"], ascending=[True, False]
    )


def _cases(params: Params) -> dict[str, str]:
    candidates = selection.read_candidates(params.artists.file)
    return dict(zip(candidates["artist"], candidates["case"], strict=True)) if "case" in candidates.columns else {}


def _disagreements(params: Params, paths: ConfigPaths) -> str:
    table = disagreements(classification.read_accuracy(paths), validation.read_validation(paths), _cases(params))
    intro = (
        f'<h3>Where classification and validation disagree</h3><p class="sub">Named: CLIP names the artist in at '
        f"least {percent(NAMED_AT, 0)} of the imitations; validated: significant by the artist-level test. "
        "Named but not validated: the model may have learnt the name as another style (an impostor). "
        "Validated but not named: the imitation resembles the real works, but the encoder cannot name it.</p>"
    )
    if table.empty:
        return intro + "<p>None: every artist named is validated, and every artist validated is named.</p>"
    show_case = bool((table["case"] != "").any())
    rows = [
        [
            esc(r.artist),
            *([esc(r.case)] if show_case else []),
            percent(r.accuracy),
            _yes(r.significant_artist_level),
            p_value(r.p_adjusted_artist_level),
            _yes(r.significant_paper_test),
            esc(r.disagreement),
        ]
        for r in table.itertuples()
    ]
    header = [
        "artist",
        *(["case (ground truth)"] if show_case else []),
        "accuracy",
        "significant, artist-level",
        "artist-level p (corrected)",
        "significant, paper's test",
        "disagreement",
    ]
    return intro + html_table(header, rows, numeric={1 + show_case, 3 + show_case})


def _headline_block(params: Params, paths: ConfigPaths) -> str:
    """A configuration's headline against the paper and, beside it, the calibration of its tests."""
    found = paths.summary_json.is_file()
    parts = [_headline(summary.read_summary(paths)) if found else awaiting(params, paths.summary_json.name, "headline")]
    if paths.figure("calibration").is_file():
        parts.append(figure_html(paths.figure("calibration"), FIGURE_CAPTIONS["calibration"]))
    return "".join(parts)


def _config_section(params: Params, config: Configuration, *, headline: bool = True) -> str:
    paths = params.paths.config(config.name)
    parts = [_headline_block(params, paths)] if headline else []
    for name, caption in FIGURE_CAPTIONS.items():
        if name not in ("selection_counts", "forest", "calibration", "transforms") and paths.figure(name).is_file():
            parts.append(figure_html(paths.figure(name), caption))
    if paths.table("accuracy.csv").is_file() and paths.table("validation.csv").is_file():
        parts.append(_disagreements(params, paths))
        parts.append("<h3>Per artist, by accuracy</h3>" + _artists(params, paths))
    return "".join(parts)


def _stages(params: Params) -> str:
    stages = read_run(params.paths).get("stages", {})
    items = []
    for stage in STEPS:
        if stage not in stages:
            continue
        status = stages[stage].get("status", "not run")
        links = "".join(
            f' <a href="notebooks/{stage}{ext}">{ext[1:]}</a>'
            for ext in (".html", ".ipynb")
            if params.paths.notebook(stage, ext).is_file()
        )
        items.append(f"<li>{esc(stage)}: {esc(status)}{' — executed notebook:' + links if links else ''}</li>")
    return "<h2>Stages</h2><ul>" + "".join(items) + "</ul>"


def write_report(params: Params) -> None:
    """Write ``report.html`` (see the module docstring)."""
    paths, configs = params.paths, params.configurations
    kind = provenance.weights(params)
    parts = [f"<h1>imitation-audit · run <code>{esc(params.run)}</code></h1>"]
    if params.description:
        parts.append(f'<p class="sub">{esc(params.description)}</p>')
    if len(configs) == 1:
        parts += ["<h2>Headline: this run against the paper</h2>", _headline_block(params, paths)]
    parts += [
        f'<p class="caveat{" toy" if kind == "toy" and c == provenance.TOY_WORLD_NOTE else ""}">{esc(c)}</p>'
        for c in provenance.caveats(params, origins=_origins(params))
    ]
    if len(configs) > 1:
        parts.append(sweep_section(params))
    if paths.figure("selection_counts").is_file():
        parts += [
            "<h2>Selection</h2>",
            figure_html(paths.figure("selection_counts"), FIGURE_CAPTIONS["selection_counts"]),
        ]
    if len(configs) == 1:
        parts += ["<h2>Results</h2>", _config_section(params, configs[0], headline=False)]
    else:
        parts.append("<h2>Each configuration</h2>")
        for i, config in enumerate(configs):
            parts.append(
                f"<details{' open' if i == 0 else ''}><summary>{esc(config.name)}</summary>"
                f"{_config_section(params, config)}</details>"
            )
    parts.append(_stages(params))
    page = (
        f'<!doctype html><html><head><meta charset="utf-8"><title>imitation-audit: {esc(params.run)}</title>'
        f"<style>{STYLE}</style></head><body>{''.join(parts)}</body></html>\n"
    )
    write_text(paths.report_html, page)
