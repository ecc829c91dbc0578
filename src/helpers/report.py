"""``report.html``: one page a person reads — the headline against the paper, the caveats, for a sweep the
comparison of its configurations, then each configuration's figures (each with a caption saying what it
shows), the artists whose classification and validation disagree (:func:`disagreements`), and the
per-artist table sorted by accuracy. Numbers are formatted; nothing is a raw dump.

Every number on the page is read from the products of the stages and of ``06_comparison``; the page
computes none (the disagreement table only compares two of them, per artist).
"""

from __future__ import annotations

import base64
import html
import math

import pandas as pd

from . import classification, comparison, pipeline, provenance, selection, summary, validation
from .exposure import ThresholdFit
from .files import write_text
from .paths import ConfigPaths
from .pipeline import STEPS
from .record import read_run
from .schema import Configuration, Params

__all__ = ["write_report", "disagreements", "percent", "interval", "p_value", "FIGURE_CAPTIONS", "NAMED_AT"]

NAMED_AT = 0.5
"""An artist is *named* when CLIP names them in at least this share of their imitations."""
DISAGREEMENT_COLUMNS = ("artist", "case", "accuracy", "significant_artist_level", "p_adjusted_artist_level",
                        "significant_paper_test", "disagreement")  # fmt: skip

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
    "pvalues": "The paper's test (imitations as independent): its one-sided rank-sum p-value per artist (log "
    "scale), against the corrected threshold; filled points are significant. These p-values are too small: see "
    "the calibration figure.",
    "calibration": "Are the validation tests calibrated? Left: on the negative controls (each artist given another "
    "artist's works; random-name imitations standing in for the artists'), where no artist is imitated, the share "
    "of p-values at or below each level α — a calibrated test lies on or below the diagonal. Right: the share of "
    "artists each test calls significant on the true pairing beside its false-positive rate on the controls, with "
    "Wilson intervals.",
    "forest": "Mean top-1 accuracy over artists per configuration, with its bootstrap interval over artists; "
    "the dashed line is the paper's 81.0%.",
    "transforms": "The signal against post-processing (params transforms): per kind of processing, the mean accuracy "
    "(with its interval over artists) and the share of artists the artist-level test validates at each strength, "
    "stronger to the right, beside the untransformed images (dashed) and chance (dotted). The paired differences "
    "say artist by artist which moves are more than luck.",
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


def _threshold(numbers: dict) -> str:
    """``112 captions for 50% [60, 240]``, or why there is none."""
    fit = numbers.get("exposure_threshold")
    if not fit:
        return "—"
    if fit.get("threshold") is None:
        return _e(fit.get("note") or "no threshold")
    shown = ThresholdFit.from_dict(fit).shown
    bounds = " – ".join(shown(v) for v in (fit["ci_low"], fit["ci_high"]))
    return (f"{fit['threshold']:.0f} captions for {percent(fit['level'], 0)} [{bounds}]"
            + (" (extrapolated)" if fit.get("extrapolated") else ""))


def _significant(numbers: dict, key: str) -> str:
    """``87% (20 of 23 artists)``, with the interval when the summary has one."""
    share, n_val = numbers.get(key), numbers.get("n_validated") or 0
    if _missing(share):
        return "—"
    text = percent(share, 0)
    if not _missing(numbers.get(f"{key}_ci_low")):
        text += f" [{percent(numbers[f'{key}_ci_low'], 0)}, {percent(numbers[f'{key}_ci_high'], 0)}]"
    return text + (f" ({round(share * n_val)} of {n_val} artists)" if n_val else "")


def _false_positives(numbers: dict, test: str) -> str:
    """The false-positive rate of ``test`` on deranged real works, its interval and the family-wise error."""
    rate = numbers.get(f"false_positive_rate_{test}")
    if _missing(rate):
        return "— (no negative control)"
    return (f"{interval(rate, numbers[f'false_positive_rate_{test}_ci_low'], numbers[f'false_positive_rate_{test}_ci_high'])}"
            f"; at least one in {percent(numbers[f'familywise_error_{test}'], 0)} of derangements")


_ORIGIN_LABELS = {"metadata": "sampled from the caption metadata (possibly training images)", "folder": "a user's folder",
                  "toyworld": "the toy world's held-out works", "standin": "stand-ins made by the generator"}  # fmt: skip


def _by_origin(numbers: dict) -> list[list[str]]:
    """Both tests' share of significant artists for the real works of each origin, when there are several."""
    rows = []
    for origin, part in (numbers.get("by_origin") or {}).items():
        label = " and ".join(_ORIGIN_LABELS.get(o, o) for o in origin.split("+"))
        rows.append([f"&nbsp;&nbsp;real works {_e(label)}: significant, artist-level / paper's test",
                     f"{percent(part['fraction_significant_artist_level'], 0)} / {percent(part['fraction_significant'], 0)}"
                     f" ({part['n_validated']} artists)", "—"])  # fmt: skip
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
    rows = [["&nbsp;&nbsp;random names attributed among the artists: largest share",
             "—" if not pulled or _missing(pulled.get("max_share")) else
             f"{percent(pulled['max_share'])} ({_e(pulled['max_share_artist'])}; chance {percent(pulled['chance'])})", "—"],
            ["Retrieval, imitation as query, references as gallery: recall@k",
             " · ".join(f"@{k} {percent(ref[f'recall_at_{k}'])}" for k in ks), "—"],
            ["&nbsp;&nbsp;mAP@k", " · ".join(f"@{k} {percent(ref[f'map_at_{k}'])}" for k in ks), "—"],
            ["ROC-AUC, own artist's references vs others'", "—" if _missing(ref.get("roc_auc")) else f"{ref['roc_auc']:.3f}", "—"],
            [f"Artists attributed above chance ({_e(ref['significance_test'])})", percent(ref["fraction_significant_binomial"], 0), "—"],
            ["&nbsp;&nbsp;with deranged references: accuracy; false positives",
             "—" if _missing(control.get("accuracy")) else
             f"{percent(control['accuracy'])}; {percent(control['false_positive_rate'])} "
             f"(family-wise {percent(control['family_wise_error'], 0)}, {control['n_shifts']} shifts)", "—"],
            ["References / held-out works (never the same; held-out ones validate)",
             f"{ref['n_references']} / {ref['n_held_out']} (share {ref['reference_share']:g}, seed {ref['split_seed']})", "—"]]  # fmt: skip
    return rows


def _headline(numbers: dict) -> str:
    paper = summary.PAPER
    alpha = numbers["alpha"]
    method = numbers.get("method", "zero-shot")
    rows = [
        [f"Mean top-1 accuracy over artists ({_METHOD_WORDS.get(method, method)})", interval(numbers["accuracy"], numbers["accuracy_ci_low"],
                                                      numbers["accuracy_ci_high"]), percent(paper["accuracy"])],
        ["Same for random names (baseline)", interval(numbers["accuracy_random_names"],
                                                      numbers.get("accuracy_random_names_ci_low"),
                                                      numbers.get("accuracy_random_names_ci_high")),
         percent(paper["accuracy_random_names"])],
        ["Chance, 1/K", percent(numbers["chance"]), percent(paper["chance"])],
        *_reference_rows(numbers),
        [f"<b>Artists significant, artist-level test</b> (artists as units; {_e(numbers['artist_level_correction'])}, "
         f"α = {alpha:g})", _significant(numbers, "fraction_significant_artist_level"), "—"],
        ["&nbsp;&nbsp;its false positives on deranged real works", _false_positives(numbers, "artist_level"), "—"],
        [f"Artists significant, paper's test (imitations as independent; {_e(numbers['correction'])}, α = {alpha:g})",
         _significant(numbers, "fraction_significant"), percent(paper["fraction_significant"], 0)],
        ["&nbsp;&nbsp;its false positives on deranged real works", _false_positives(numbers, "paper_test"), "not measured"],
        *_by_origin(numbers),
        ["Artists whose real works are closest to their own imitations",
         "—" if _missing(numbers.get("identification_rate")) else
         f"{percent(numbers['identification_rate'], 0)} (chance {percent(numbers['identification_chance'])}, "
         f"p = {p_value(numbers['identification_p'])})", "—"],
        ["Paper's test on the centred statistic (hubness-corrected)", percent(numbers.get("fraction_significant_centered"), 0), "—"],
        ["Ceiling: artists named from their real works", percent(numbers.get("ceiling_accuracy")), "—"],
        ["Imitation accuracy ÷ ceiling", "—" if _missing(numbers.get("accuracy_vs_ceiling"))
         else f"{numbers['accuracy_vs_ceiling']:.2f}", "—"],
        ["Exposure: Spearman ρ of accuracy and caption count",
         "—" if _missing(numbers.get("spearman_caption_count")) else
         f"{numbers['spearman_caption_count']:+.2f} (p = {p_value(numbers['spearman_caption_count_p'])})", "—"],
        ["Exposure threshold: captions for the fitted accuracy to reach the level", _threshold(numbers), "—"],
    ]  # fmt: skip
    table = _table(["", "this run", "paper"], rows, numeric={1, 2}, cls="headline")
    control = f'<p class="sub">Negative control: {_e(numbers.get("negative_control", "none"))}.</p>'
    return table + control + f'<p class="sub">{numbers["n_artists"]} artists, {numbers["images_per_artist"]} images each; paper: {paper["n_artists"]} artists ({_e(paper["source"])}).</p>'


def _yes(flag) -> str:
    return "—" if flag is None or pd.isna(flag) else "yes" if flag else "no"


def _artists(params: Params, paths: ConfigPaths) -> str:
    """Per-artist accuracy (sorted, highest first) with the ceiling, caption count and both validation tests."""
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
        v = val.loc[artist] if artist in val.index else None
        effect = "—" if v is None else (f"{v['effect_artist_level']:+.3f} [{v['effect_ci_low']:+.3f}, "
                                        f"{v['effect_ci_high']:+.3f}]")  # fmt: skip
        rows.append([
            _e(artist), interval(a["accuracy"], a["ci_low"], a["ci_high"]), f"{a['n_correct']} / {a['n_images']}",
            percent(ceiling.get(artist)), "—" if pd.isna(counts.get(artist, pd.NA)) else str(int(counts[artist])),
            "—" if v is None else p_value(v["p_adjusted_artist_level"]), _yes(None if v is None else v["significant_artist_level"]),
            effect, "—" if v is None else p_value(v["p_adjusted_paper_test"]),
            _yes(None if v is None else v["significant_paper_test"]),
            _yes(cen["significant_paper_test"].get(artist)),
        ])  # fmt: skip
    header = ["artist", "accuracy [interval]", "correct", "ceiling", "captions", "artist-level p (corrected)",
              "significant, artist-level", "effect Δ [interval]", "paper's test p (corrected)",
              "significant, paper's test", "paper's test, centred"]  # fmt: skip
    return f'<div class="scroll">{_table(header, rows, numeric={1, 2, 3, 4, 5, 7, 8})}</div>'


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
        rows.append({
            "artist": artist, "case": (cases or {}).get(artist, ""), "accuracy": float(acc[artist]),
            "significant_artist_level": significant, "p_adjusted_artist_level": float(val.at[artist, "p_adjusted_artist_level"]),
            "significant_paper_test": bool(val.at[artist, "significant_paper_test"]),
            "disagreement": "named, not validated" if named else "validated, not named",
        })  # fmt: skip
    return pd.DataFrame(rows, columns=list(DISAGREEMENT_COLUMNS)).sort_values(["disagreement", "accuracy"], ascending=[True, False])


def _cases(params: Params) -> dict[str, str]:
    candidates = selection.read_candidates(params.artists.file)
    return dict(zip(candidates["artist"], candidates["case"], strict=True)) if "case" in candidates.columns else {}


def _disagreements(params: Params, paths: ConfigPaths) -> str:
    table = disagreements(classification.read_accuracy(paths), validation.read_validation(paths), _cases(params))
    intro = (f"<h3>Where classification and validation disagree</h3><p class=\"sub\">Named: CLIP names the artist in at "
             f"least {percent(NAMED_AT, 0)} of the imitations; validated: significant by the artist-level test. "
             "Named but not validated: the model may have learnt the name as another style (an impostor). "
             "Validated but not named: the imitation resembles the real works, but the encoder cannot name it.</p>")  # fmt: skip
    if table.empty:
        return intro + "<p>None: every artist named is validated, and every artist validated is named.</p>"
    show_case = bool((table["case"] != "").any())
    rows = [[_e(r.artist), *([_e(r.case)] if show_case else []), percent(r.accuracy), _yes(r.significant_artist_level),
             p_value(r.p_adjusted_artist_level), _yes(r.significant_paper_test), _e(r.disagreement)]
            for r in table.itertuples()]  # fmt: skip
    header = ["artist", *(["case (ground truth)"] if show_case else []), "accuracy", "significant, artist-level",
              "artist-level p (corrected)", "significant, paper's test", "disagreement"]  # fmt: skip
    return intro + _table(header, rows, numeric={1 + show_case, 3 + show_case})


def _awaiting(params: Params, product: str, what: str) -> str:
    """Why the run has no ``product``: the stage that writes it has not run, or is not done since a stage or the
    params it reads changed (it is removed then: :attr:`pipeline.Stage.expires`)."""
    stage = pipeline.owner(product)
    status = read_run(params.paths).get("stages", {}).get(stage, {}).get("status")
    state = f"is {status}" if status else "has not run"
    return (f'<p class="caveat">No {_e(what)}: {_e(stage)}, which writes {_e(product)}, {state} in this run. '
            f"Run it (make stage STAGE={_e(stage)}), or the whole run.</p>")  # fmt: skip


def _headline_block(params: Params, paths: ConfigPaths) -> str:
    """A configuration's headline against the paper and, beside it, the calibration of its tests."""
    found = paths.summary_json.is_file()
    parts = [_headline(summary.read_summary(paths)) if found else _awaiting(params, paths.summary_json.name, "headline")]
    if paths.figure("calibration").is_file():
        parts.append(_figure(paths.figure("calibration"), FIGURE_CAPTIONS["calibration"]))
    return "".join(parts)


def _config_section(params: Params, config: Configuration, *, headline: bool = True) -> str:
    paths = params.paths.config(config.name)
    parts = [_headline_block(params, paths)] if headline else []
    for name, caption in FIGURE_CAPTIONS.items():
        if name not in ("selection_counts", "forest", "calibration", "transforms") and paths.figure(name).is_file():
            parts.append(_figure(paths.figure(name), caption))
    if paths.table("accuracy.csv").is_file() and paths.table("validation.csv").is_file():
        parts.append(_disagreements(params, paths))
        parts.append("<h3>Per artist, by accuracy</h3>" + _artists(params, paths))
    return "".join(parts)


def _sweep(params: Params) -> str:
    paths = params.paths
    tables = comparison.read_tables(paths)
    if tables is None:
        return _awaiting(params, paths.table("comparison.csv").relative_to(paths.root).as_posix(),
                         "comparison of the configurations")
    table, paired, spread = tables
    templates = {t: i + 1 for i, t in enumerate(dict.fromkeys(table["template"]))}
    labels = {t: i + 1 for i, t in enumerate(dict.fromkeys(table["label_template"]))}
    table = table.sort_values("accuracy", ascending=False)
    rows = [[_e(r.config), _e(r.generator), _e(r.encoder), _e(r.method), f"t{templates[r.template]} / l{labels[r.label_template]}",
             _e(r.seed), interval(r.accuracy, r.accuracy_ci_low, r.accuracy_ci_high), percent(r.accuracy_random_names),
             percent(r.chance), f"{percent(r.fraction_significant_artist_level, 0)} ({percent(r.false_positive_rate_artist_level, 1)})",
             f"{percent(r.fraction_significant, 0)} ({percent(r.false_positive_rate_paper_test, 1)})"]
            for r in table.itertuples()]  # fmt: skip
    legend = "; ".join([*(f"t{i}: <code>{_e(t)}</code>" for t, i in templates.items()),
                        *(f"l{i}: <code>{_e(t)}</code>" for t, i in labels.items())])  # fmt: skip
    parts = ["<h2>Configurations compared</h2>",
             _table(["config", "generator", "encoder", "method", "template / label", "seed", "accuracy [interval]",
                     "random names", "chance", "significant, artist-level (false positives)",
                     "significant, paper's test (false positives)"], rows, numeric={6, 7, 8, 9, 10}),
             f'<p class="sub">Templates: {legend}. False positives: the share of artists each test calls significant '
             "when each is given another artist's real works (the negative control).</p>"]  # fmt: skip
    for name in ("forest", "transforms"):
        if paths.figure(name).is_file():
            parts.append(_figure(paths.figure(name), FIGURE_CAPTIONS[name]))
    if len(paired):
        rows = [[_e(r.config_a), _e(r.config_b),
                 _e(r.differs_in + ("" if " vs " not in str(r.methods) else f" ({r.methods})")), _e(_METRIC_LABELS.get(r.metric, r.metric)),
                 _difference(r.metric, r.difference, r.ci_low, r.ci_high), p_value(r.p_value), p_value(r.p_holm),
                 p_value(r.p_image_level), _e(r.method)]
                for r in paired.itertuples()]  # fmt: skip
        parts += ["<h3>Paired differences (configurations that differ in one thing; artists as units)</h3>",
                  _table(["a", "b", "differs in", "measure", "a − b [interval]", "p (artists)", "p (Holm, all pairs)",
                          "p (images, exact McNemar)", "test"], rows, numeric={4, 5, 6, 7})]  # fmt: skip
    if len(spread):
        rows = [[_e(r.configs), _e(int(r.n_seeds)), percent(r.mean), f"{100 * r.sd:.1f} pts",
                 f"{percent(r.min)} – {percent(r.max)}", f"±{100 * r.mean_ci_half_width:.1f} pts"]
                for r in spread.itertuples()]  # fmt: skip
        parts += ["<h3>Seed to seed</h3>", _table(["configurations", "seeds", "mean accuracy", "sd over seeds",
                                                   "range", "interval over artists (mean half-width)"], rows, numeric={1, 2, 3, 5})]  # fmt: skip
    return "".join(parts)


_METRIC_LABELS = {"accuracy": "accuracy", "validation_auc": "validation AUC (paper's own vs other)",
                  "significant_artist_level": "significant, artist-level test", "ceiling_accuracy": "ceiling"}


def _difference(metric: str, difference, low, high) -> str:
    """A paired difference and its interval: points of a percentage, or AUC units."""
    if metric == "validation_auc":
        return f"{difference:+.3f} [{low:+.3f}, {high:+.3f}]"
    return f"{100 * difference:+.1f} pts [{100 * low:+.1f}, {100 * high:+.1f}]"


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
    if len(configs) == 1:
        parts += ["<h2>Headline: this run against the paper</h2>", _headline_block(params, paths)]
    parts += [f'<p class="caveat{" toy" if kind == "toy" and c == provenance.TOY_WORLD_NOTE else ""}">{_e(c)}</p>'
              for c in provenance.caveats(params, origins=_origins(params))]  # fmt: skip
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
