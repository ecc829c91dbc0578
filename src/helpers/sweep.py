"""The configurations of a sweep, compared: one row of numbers each, paired differences between neighbours,
and the spread of the mean accuracy over generation seeds. The ``06_comparison`` step.

Each configuration's numbers come from its ``summary.json`` (:mod:`helpers.report`); the pairing reads its
per-image predictions and per-artist accuracies (stage 04's readers). Products, in the run folder:
``tables/comparison.csv``, ``tables/paired_differences.csv``, ``tables/seed_spread.csv``,
``figures/forest.png``.

**Pairs.** Two configurations are compared when they differ in exactly one axis (a generator, template,
seed, encoder, label template or number of real works), so each difference has one cause. When both
classify the same images (the axis is the encoder or the label template), the test is exact McNemar on the
per-image correctness of the artists' imitations; otherwise the images differ and the pairing is over
artists: a paired bootstrap of the per-artist accuracies. Either way the difference is that of the mean
accuracies over artists, with a paired-bootstrap interval over artists.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import pandas as pd

from . import classification, plots, provenance, significance, stats, summary
from .errors import AuditError
from .files import read_table, write_table
from .paths import RunPaths
from .schema import Configuration, Params

__all__ = ["COMPARISON_COLUMNS", "PAIRED_COLUMNS", "SweepResult", "run", "comparison_table", "paired_differences",
           "read_tables"]

COMPARISON_COLUMNS = (
    "config", "generator", "encoder", "template", "label_template", "seed", "n_artists", "accuracy",
    "accuracy_ci_low", "accuracy_ci_high", "accuracy_random_names", "chance", "fraction_significant",
    "n_validated", "max_works", "ceiling_accuracy", "fraction_significant_centered", "weights",
)  # fmt: skip
PAIRED_COLUMNS = ("config_a", "config_b", "differs_in", "method", "difference", "ci_low", "ci_high", "p_value")
SPREAD_COLUMNS = ("configs", "n_seeds", "mean", "sd", "min", "max", "mean_ci_half_width")
_AXES = ("generator", "template", "seed", "encoder", "label_template", "max_works")
_TEXT = {"config", "generator", "encoder", "template", "label_template", "seed", "weights", "config_a", "config_b",
         "differs_in", "method", "configs"}
"""The columns of the three tables that hold text; every other column is a number (empty: missing)."""


def comparison_table(params: Params) -> pd.DataFrame:
    """One row per configuration with its axes and headline numbers, equal to its ``summary.json``."""
    rows = []
    for config in params.configurations:
        numbers = summary.read_summary(params.paths.config(config.name))
        row = {key: numbers.get(key) for key in COMPARISON_COLUMNS}
        row.update(config=config.name, generator=config.generator.name, encoder=config.encoder.name,
                   template=config.template, label_template=config.label_template, seed=config.seed,
                   max_works=config.max_works)  # fmt: skip
        rows.append(row)
    return pd.DataFrame(rows, columns=list(COMPARISON_COLUMNS))


def _differs(a: Configuration, b: Configuration) -> list[str]:
    return [axis for axis in _AXES if a.axes[axis] != b.axes[axis]]


def _artist_accuracy(params: Params, config: Configuration) -> pd.Series:
    table = classification.read_accuracy(params.paths.config(config.name))
    return table[table["group"] == "artists"].set_index("name")["accuracy"]


def _image_correct(params: Params, config: Configuration) -> pd.Series:
    pred = classification.read_predictions(params.paths.config(config.name))
    pred = pred[pred["group"] == "artists"]
    return pd.Series((pred["correct"] == "True").to_numpy(), index=pred["image"].to_numpy())


def paired_differences(params: Params) -> pd.DataFrame:
    """Every pair of configurations that differ in exactly one axis, compared (see the module docstring)."""
    settings = params.classification
    rows = []
    for a, b in combinations(params.configurations, 2):
        differs = _differs(a, b)
        if len(differs) != 1:
            continue
        acc_a, acc_b = _artist_accuracy(params, a), _artist_accuracy(params, b)
        if set(acc_a.index) != set(acc_b.index):
            raise AuditError(f"configurations {a.name} and {b.name} measured different artists",
                             fix="rerun the run from 01_selection")  # fmt: skip
        acc_b = acc_b.loc[acc_a.index]
        difference, low, high, p = significance.paired_bootstrap(
            acc_a.to_numpy(), acc_b.to_numpy(), n_boot=settings.bootstrap, confidence=settings.confidence, seed=params.seed
        )  # fmt: skip
        method = "paired bootstrap over artists"
        if a.generation_key == b.generation_key:  # the same images, classified two ways
            right_a, right_b = _image_correct(params, a), _image_correct(params, b)
            _, _, p = significance.mcnemar_exact(right_a.to_numpy(), right_b.loc[right_a.index].to_numpy())
            method = "exact McNemar over images"
        rows.append((a.name, b.name, differs[0], method, difference, low, high, p))
    return pd.DataFrame(rows, columns=list(PAIRED_COLUMNS))


def seed_spread(table: pd.DataFrame) -> pd.DataFrame:
    """For each group of configurations that differ only in the generation seed: the spread of their mean
    accuracy over seeds, beside the average half-width of their bootstrap intervals over artists."""
    others = [c for c in ("generator", "template", "encoder", "label_template", "max_works") if c in table]
    rows = []
    for _, group in table.groupby(others, sort=False):
        if group["seed"].nunique() < 2:
            continue
        spread = stats.spread(group["accuracy"].to_numpy(float))
        half = float(((group["accuracy_ci_high"] - group["accuracy_ci_low"]) / 2).mean())
        rows.append((" | ".join(group["config"]), spread["n"], spread["mean"], spread["sd"], spread["min"], spread["max"], half))
    return pd.DataFrame(rows, columns=list(SPREAD_COLUMNS))


@dataclass(frozen=True)
class SweepResult:
    """What ``06_comparison`` produced: the comparison table, the paired differences, the spread over
    seeds, and the forest plot."""

    comparison: pd.DataFrame
    paired: pd.DataFrame
    seed_spread: pd.DataFrame
    figures: dict[str, plots.SavedFigure]


def run(params: Params) -> SweepResult:
    """Compare the configurations of a finished sweep; write the tables and the forest plot."""
    if len(params.configurations) < 2:
        raise AuditError("this run has one configuration: there is nothing to compare",
                         fix="list several generators, templates, seeds, encoders or label templates")  # fmt: skip
    paths = params.paths
    table = comparison_table(params)
    paired = paired_differences(params)
    spread = seed_spread(table)
    write_table(table, paths.table("comparison.csv"))
    write_table(paired, paths.table("paired_differences.csv"))
    write_table(spread, paths.table("seed_spread.csv"))
    forest = table.sort_values("accuracy", ascending=False)[["config", "accuracy", "accuracy_ci_low", "accuracy_ci_high",
                                                             "accuracy_random_names", "chance"]]  # fmt: skip
    forest = forest.rename(columns={"accuracy_ci_low": "ci_low", "accuracy_ci_high": "ci_high"})
    fig = plots.forest(forest, paper=summary.PAPER["accuracy"], title=f"{params.run}: accuracy per configuration",
                       weights=provenance.weights(params))  # fmt: skip
    return SweepResult(table, paired, spread, {"forest": plots.save(fig, paths.figure("forest"))})


def read_tables(paths: RunPaths) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame] | None:
    """``(comparison, paired, seed_spread)`` as ``06_comparison`` wrote them, numbers as numbers (a missing
    number is NaN), or ``None`` before that step has run."""
    if not paths.table("comparison.csv").is_file():
        return None
    tables = []
    for name, columns in (("comparison.csv", COMPARISON_COLUMNS), ("paired_differences.csv", PAIRED_COLUMNS),
                          ("seed_spread.csv", SPREAD_COLUMNS)):  # fmt: skip
        table = read_table(paths.table(name), needs="06_comparison", columns=columns)
        for column in columns:
            if column not in _TEXT:
                table[column] = pd.to_numeric(table[column].replace("", None), errors="raise").astype(float)
        tables.append(table)
    return tables[0], tables[1], tables[2]
