"""The configurations of a sweep, compared: one row of numbers each, paired differences between neighbours,
and the spread of the mean accuracy over generation seeds. The ``06_comparison`` stage (:func:`run_stage`).

Each configuration's numbers come from its ``summary.json`` (:mod:`helpers.summary`); the pairing reads its
per-artist tables (stage 04's and stage 05's readers). Products, in the run folder:
``tables/comparison.csv``, ``tables/paired_differences.csv``, ``tables/seed_spread.csv``,
``figures/forest.png`` and, with transforms, ``figures/transforms.png`` (the signal against their strength).

**Pairs.** Two configurations are compared when they differ in exactly one axis (a generator, template,
seed, encoder, label template, number of real works or transform), so each difference has one cause, and only
in the measures that axis can change: accuracy (not by the number of real works, which leaves every prediction
as it is, nor by a transform of the real works alone), the artists' validation — the per-artist AUC and the
artist-level significance — (not by the label template, which validation does not read) and the ceiling (only
by the encoder, the label template, the real works and a transform that touches them). **The artists are the units**: the difference is the mean over artists of the per-artist
difference, with a paired-bootstrap interval over artists; its p-value is Wilcoxon's signed-rank test over
the per-artist differences (exact McNemar over artists for the significance flags). When both
configurations classify the very same images, the exact McNemar test over images is reported beside it,
named as image-level (it treats the images as independent). Holm's correction runs across every row of the
sweep (``p_holm``).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import pandas as pd

from . import classification, plots, provenance, significance, stats, summary, transforms, validation
from .errors import AuditError
from .files import Columns, read_table, write_table
from .paper import PAPER
from .paths import RunPaths
from .schema import Configuration, Params

__all__ = [
    "COMPARISON_COLUMNS",
    "PAIRED_COLUMNS",
    "METRICS",
    "ComparisonResult",
    "run_stage",
    "comparison_table",
    "paired_differences",
    "read_tables",
]

COMPARISON_COLUMNS = Columns(
    config="text",
    generator="text",
    encoder="text",
    template="text",
    label_template="text",
    seed="text",
    n_artists="float",
    accuracy="float",
    accuracy_ci_low="float",
    accuracy_ci_high="float",
    accuracy_random_names="float",
    chance="float",
    fraction_significant="float",
    n_validated="float",
    max_works="float",
    ceiling_accuracy="float",
    fraction_significant_centered="float",
    weights="text",
    fraction_significant_artist_level="float",
    false_positive_rate_artist_level="float",
    false_positive_rate_paper_test="float",
    transform="text",
    method="text",
    roc_auc="float",
)
PAIRED_COLUMNS = Columns(
    config_a="text",
    config_b="text",
    differs_in="text",
    methods="text",
    metric="text",
    method="text",
    n_artists="float",
    difference="float",
    ci_low="float",
    ci_high="float",
    p_value="float",
    p_holm="float",
    p_image_level="float",
)
"""``methods``: the two configurations' attribution methods (``zero-shot`` / ``reference``: an encoder
carries its method, so two encoders may also differ in it); ``method``: the paired test."""
SPREAD_COLUMNS = Columns(
    configs="text",
    n_seeds="float",
    mean="float",
    sd="float",
    min="float",
    max="float",
    mean_ci_half_width="float",
)
_AXES = ("generator", "template", "seed", "encoder", "label_template", "max_works", "transform")
METRICS = {
    "accuracy": ("generator", "template", "seed", "encoder", "label_template", "transform"),
    "validation_auc": ("generator", "template", "seed", "encoder", "max_works", "transform"),
    "significant_artist_level": ("generator", "template", "seed", "encoder", "max_works", "transform"),
    "ceiling_accuracy": ("encoder", "label_template", "max_works", "transform"),
}
"""Each per-artist measure the comparison pairs, and the axes that can change it (a transform: only where it
touches the images the measure reads, :func:`_transform_reaches`)."""
_READS = {
    "accuracy": ("imitation",),
    "validation_auc": ("imitation", "real"),
    "significant_artist_level": ("imitation", "real"),
    "ceiling_accuracy": ("real",),
}


def comparison_table(params: Params) -> pd.DataFrame:
    """One row per configuration with its axes and headline numbers, equal to its ``summary.json``."""
    rows = []
    for config in params.configurations:
        numbers = summary.read_summary(params.paths.config(config.name))
        row = {key: numbers.get(key) for key in COMPARISON_COLUMNS}
        row.update(
            config=config.name,
            generator=config.generator.name,
            encoder=config.encoder.name,
            template=config.template,
            label_template=config.label_template,
            seed=config.seed,
            max_works=config.max_works,
            transform=config.axes["transform"],
            method=config.method,
        )
        rows.append(row)
    return pd.DataFrame(rows, columns=list(COMPARISON_COLUMNS))


def _differs(a: Configuration, b: Configuration) -> list[str]:
    return [axis for axis in _AXES if a.axes[axis] != b.axes[axis]]


def _transform_reaches(a: Configuration, b: Configuration, metric: str) -> bool:
    """Whether the transform of ``a`` or ``b`` touches an image ``metric`` reads."""
    return any(transforms.applies(c.transform, kind) for c in (a, b) for kind in _READS[metric])


def _per_artist(params: Params, config: Configuration, metric: str) -> pd.Series:
    """One configuration's value of ``metric`` for each artist (indexed by artist)."""
    paths = params.paths.config(config.name)
    if metric == "accuracy":
        table = classification.read_accuracy(paths)
        return table[table["group"] == "artists"].set_index("name")["accuracy"]
    if metric == "ceiling_accuracy":
        return classification.read_ceiling(paths).set_index("artist")["accuracy"]
    column = {"validation_auc": "auc", "significant_artist_level": "significant_artist_level"}[metric]
    return validation.read_validation(paths).set_index("artist")[column]


def _image_correct(params: Params, config: Configuration) -> pd.Series:
    pred = classification.read_predictions(params.paths.config(config.name))
    pred = pred[pred["group"] == "artists"]
    return pd.Series(pred["correct"].to_numpy(), index=pred["image"].to_numpy())


def _compare(params: Params, a: Configuration, b: Configuration, metric: str, per_artist=_per_artist) -> tuple | None:
    """``(method, n_artists, difference, low, high, p)`` of ``metric`` between ``a`` and ``b`` over their
    artists, or ``None`` when the metric is missing in either (no ceiling, an artist-level test not computed).
    ``per_artist(params, config, metric)`` reads the values (:func:`_per_artist`, or a cache of it)."""
    settings = params.classification
    values_a, values_b = per_artist(params, a, metric), per_artist(params, b, metric)
    if set(values_a.index) != set(values_b.index):
        raise AuditError(
            f"configurations {a.name} and {b.name} measured different artists ({metric})",
            fix="rerun the run from 01_selection",
        )
    values_b = values_b.loc[values_a.index]
    if len(values_a) < 2 or values_a.isna().any() or values_b.isna().any():
        return None
    x, y = values_a.to_numpy(float), values_b.to_numpy(float)
    difference, low, high, _ = significance.paired_bootstrap(
        x, y, n_boot=settings.bootstrap, confidence=settings.confidence, seed=params.seed
    )
    if metric == "significant_artist_level":
        _, _, p = significance.mcnemar_exact(x.astype(bool), y.astype(bool))
        return "paired bootstrap interval; exact McNemar over artists", len(x), difference, low, high, p
    return (
        "paired bootstrap interval; Wilcoxon signed-rank over artists",
        len(x),
        difference,
        low,
        high,
        significance.signed_rank(x, y),
    )


def _by_config(read):
    """``read(params, config, *rest)``, remembered per configuration name and ``rest``."""
    seen: dict = {}

    def remembered(params: Params, config: Configuration, *rest):
        key = (config.name, *rest)
        if key not in seen:
            seen[key] = read(params, config, *rest)
        return seen[key]

    return remembered


def paired_differences(params: Params) -> pd.DataFrame:
    """Every pair of configurations that differ in exactly one axis, compared artist by artist in each measure
    that axis can change (see the module docstring); Holm across all rows. Each configuration's tables are
    read once, however many pairs it is in."""
    per_artist, image_correct = _by_config(_per_artist), _by_config(_image_correct)
    rows = []
    for a, b in combinations(params.configurations, 2):
        differs = _differs(a, b)
        if len(differs) != 1:
            continue
        for metric, axes in METRICS.items():
            if differs[0] not in axes or (differs[0] == "transform" and not _transform_reaches(a, b, metric)):
                continue
            if (found := _compare(params, a, b, metric, per_artist)) is None:
                continue
            image_level = float("nan")
            if metric == "accuracy" and a.generation_key == b.generation_key:  # the same images, classified two ways
                right_a, right_b = image_correct(params, a), image_correct(params, b)
                _, _, image_level = significance.mcnemar_exact(
                    right_a.to_numpy(), right_b.loc[right_a.index].to_numpy()
                )
            methods = a.method if a.method == b.method else f"{a.method} vs {b.method}"
            rows.append((a.name, b.name, differs[0], methods, metric, *found, float("nan"), image_level))
    table = pd.DataFrame(rows, columns=list(PAIRED_COLUMNS))
    if len(table):
        table["p_holm"], _ = significance.adjust_pvalues(table["p_value"].to_numpy(), "holm")
    return table


def seed_spread(table: pd.DataFrame) -> pd.DataFrame:
    """For each group of configurations that differ only in the generation seed: the spread of their mean
    accuracy over seeds, beside the average half-width of their bootstrap intervals over artists. Each group
    is counted once: configurations that differ only in the number of real works classify the same images,
    so they are one member of it."""
    others = [c for c in ("generator", "template", "encoder", "label_template", "transform") if c in table]
    rows = []
    for _, group in table.groupby(others, sort=False):
        group = group.drop_duplicates("seed")  # configurations differing only in max_works share their accuracy
        if group["seed"].nunique() < 2:
            continue
        spread = stats.spread(group["accuracy"].to_numpy(float))
        half = float(((group["accuracy_ci_high"] - group["accuracy_ci_low"]) / 2).mean())
        rows.append(
            (" | ".join(group["config"]), spread["n"], spread["mean"], spread["sd"], spread["min"], spread["max"], half)
        )
    return pd.DataFrame(rows, columns=list(SPREAD_COLUMNS))


@dataclass(frozen=True)
class ComparisonResult:
    """What ``06_comparison`` produced: the comparison table, the paired differences, the spread over
    seeds, and the forest plot."""

    comparison: pd.DataFrame
    paired: pd.DataFrame
    seed_spread: pd.DataFrame
    figures: dict[str, plots.SavedFigure]


def run_stage(params: Params) -> ComparisonResult:
    """Compare the configurations of a finished sweep; write the tables and the forest plot."""
    if len(params.configurations) < 2:
        raise AuditError(
            "this run has one configuration: there is nothing to compare",
            fix="list several generators, templates, seeds, encoders, label templates or transforms",
        )
    paths = params.paths
    table = comparison_table(params)
    paired = paired_differences(params)
    spread = seed_spread(table)
    write_table(table, paths.table("comparison.csv"))
    write_table(paired, paths.table("paired_differences.csv"))
    write_table(spread, paths.table("seed_spread.csv"))
    forest = table.sort_values("accuracy", ascending=False)[
        ["config", "accuracy", "accuracy_ci_low", "accuracy_ci_high", "accuracy_random_names", "chance", "method"]
    ]
    if forest["method"].nunique() > 1:  # descriptors compared: each row says how it attributes
        forest["config"] = forest["config"] + " (" + forest["method"] + ")"
    forest = forest.drop(columns="method")
    forest = forest.rename(columns={"accuracy_ci_low": "ci_low", "accuracy_ci_high": "ci_high"})
    fig = plots.forest(
        forest,
        paper=PAPER["accuracy"],
        title=f"{params.run}: accuracy per configuration",
        weights=provenance.weights(params),
    )
    figures = {"forest": plots.save(fig, paths.figure("forest"))}
    curves = transform_curves(params, table)
    if curves is not None:
        fig = plots.transform_curves(
            *curves, title=f"{params.run}: the signal against post-processing", weights=provenance.weights(params)
        )
        figures["transforms"] = plots.save(fig, paths.figure("transforms"))
    return ComparisonResult(table, paired, spread, figures)


def transform_curves(params: Params, table: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series] | None:
    """``(rows, reference)`` for :func:`helpers.plots.transform_curves`: the chains of one step with a strength,
    at the first configuration's setting of every other axis, and that setting's untransformed row; ``None``
    when there is no such chain."""
    first = params.configurations[0]
    same = [c for c in params.configurations if all(c.axes[k] == first.axes[k] for k in _AXES if k != "transform")]
    rows = [(c.name, *found) for c in same if c.transform and (found := transforms.strength(c.transform))]
    if not rows:
        return None
    indexed = table.set_index("config")
    curves = indexed.loc[[name for name, _, _ in rows]].reset_index()
    curves["step"], curves["strength"] = [step for _, step, _ in rows], [value for _, _, value in rows]
    return curves, indexed.loc[first.name]


def read_tables(paths: RunPaths) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame] | None:
    """``(comparison, paired, seed_spread)`` as ``06_comparison`` wrote them, numbers as numbers (a missing
    number is NaN), or ``None`` before that step has run."""
    if not paths.table("comparison.csv").is_file():
        return None
    tables = []
    for name, columns in (
        ("comparison.csv", COMPARISON_COLUMNS),
        ("paired_differences.csv", PAIRED_COLUMNS),
        ("seed_spread.csv", SPREAD_COLUMNS),
    ):
        tables.append(read_table(paths.table(name), needs="06_comparison", columns=columns))
    return tables[0], tables[1], tables[2]
