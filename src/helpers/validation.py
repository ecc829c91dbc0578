"""Stage 05, validation: are an artist's real works closer to that artist's imitations than to other
artists'? This module writes stage 05's products and reads them back.

For artist *a* and every imitation *i*, s(i) aggregates the cosine similarities of *a*'s real works to *i*
(mean by default). A one-sided Mann–Whitney U test asks whether s is larger on *a*'s own imitations than
on the other artists'; p-values are corrected across artists (Bonferroni, as the paper). The computation
is :func:`helpers.significance.validation_table`; the real works were found and checked by stage 01 and
embedded by stage 03.

Beside the paper's statistic, the same test on the **centred** score s'_a(i) = s_a(i) − mean_b s_b(i) (b over
the artists with real works): how much closer imitation i is to artist a's works than to the average
artist's. An imitation that resembles every artist's work (hubness) lifts s_a(i) without any resemblance
to a in particular; centring removes that. The paper's statistic stays the headline.

Products, per configuration: ``tables/validation.csv``, ``tables/validation_centered.csv``,
``tables/own_other.csv``, ``tables/validation_excluded.csv``, ``tables/validation.json`` (the headline
numbers) and the figures ``own_vs_other`` and ``pvalues``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from . import plots, provenance, significance
from .embeddings import Embeddings
from .errors import AuditError
from .files import read_json, read_table, write_json, write_table
from .paths import ConfigPaths
from .schema import Configuration, Params

__all__ = ["ConfigValidation", "ValidationResult", "run_stage", "read_validation", "read_own_other", "read_headline"]


@dataclass(frozen=True)
class ConfigValidation:
    """One configuration's validation: a row per validated artist (paper's statistic and centred), every s(i)
    behind it (long form), the artists not validated with the reason, and the headline numbers."""

    table: pd.DataFrame
    centered: pd.DataFrame
    long: pd.DataFrame
    excluded: pd.DataFrame
    headline: dict


@dataclass(frozen=True)
class ValidationResult:
    """What stage 05 produced: each configuration's validation (key ``None`` in a run of one) and the first
    configuration's figures."""

    configs: dict[str | None, ConfigValidation]
    figures: dict[str, plots.SavedFigure]

    @property
    def first(self) -> ConfigValidation:
        return next(iter(self.configs.values()))


def _excluded(known: pd.DataFrame, artists: list[str], imitated: list[str], validated: set[str]) -> pd.DataFrame:
    """Stage 01's exclusions, every artist without imitations (images made elsewhere can lack some), and every
    other artist without real works."""
    listed = set(known["artist"])
    rows = [(a, 0, "no imitations") for a in artists if a not in imitated and a not in listed]
    rows += [(a, 0, "no real works") for a in imitated if a not in validated and a not in listed]
    return pd.concat([known, pd.DataFrame(rows, columns=["artist", "n_found", "reason"])], ignore_index=True)


def _fraction(table: pd.DataFrame) -> float:
    return float(table["significant"].astype(bool).mean()) if len(table) else float("nan")


def _headline(params: Params, table: pd.DataFrame, centered: pd.DataFrame, excluded: pd.DataFrame) -> dict:
    settings = params.validation
    return {
        "fraction_significant": _fraction(table),
        "fraction_significant_centered": _fraction(centered),
        "alpha": settings.alpha,
        "correction": settings.correction,
        "aggregate": settings.aggregate,
        "n_validated": int(len(table)),
        "n_excluded_validation": int(len(excluded)),
        "excluded_validation": excluded["artist"].tolist(),
        "real_works": "standin" if settings.standin else "real",
    }


def _validate(params: Params, emb: Embeddings, known_excluded: pd.DataFrame) -> ConfigValidation:
    settings = params.validation
    artists = emb.label_rows("artists")["name"].tolist()
    imitations = emb.rows("imitation", "artists")
    imitated = [a for a in artists if a in set(imitations["name"])]
    real = emb.rows("real")
    real = real[real["name"].isin(imitated)]
    if real.empty:
        raise AuditError(
            "no real works were encoded, so nothing can be validated",
            where="validation.real_works_dir",
            fix="put real works in validation.real_works_dir (one folder per artist), or use standin: true for a smoke run",
        )
    args = (
        emb.image_vectors[real.index], real["name"].to_numpy(),
        emb.image_vectors[imitations.index], imitations["name"].to_numpy(), imitated,
    )  # fmt: skip
    test = {"aggregate": settings.aggregate, "correction": settings.correction, "alpha": settings.alpha}
    table = significance.validation_table(*args, **test)
    centered = significance.validation_table(*args, **test, centered=True)
    long = significance.own_other_similarities(*args, aggregate=settings.aggregate)
    excluded = _excluded(known_excluded, artists, imitated, set(table["artist"]))
    return ConfigValidation(table, centered, long, excluded, _headline(params, table, centered, excluded))


def _figures(params: Params, config: Configuration, result: ConfigValidation) -> dict[str, plots.SavedFigure]:
    paths, weights = params.paths.config(config.name), provenance.weights(params, config)
    note = provenance.STANDIN_NOTE if params.validation.standin else None
    figures = {
        "own_vs_other": plots.own_other_distributions(result.long, title=f"{params.run}: real works vs imitations",
                                                      weights=weights, note=note),
        "pvalues": plots.sorted_pvalues(result.table, alpha=params.validation.alpha,
                                        correction=params.validation.correction,
                                        title=f"{params.run}: validation p-values", weights=weights, note=note),
    }  # fmt: skip
    return {name: plots.save(fig, paths.figure(name)) for name, fig in figures.items()}


def run_stage(params: Params, embeddings: dict[str | None, Embeddings], excluded: pd.DataFrame) -> ValidationResult:
    """Validate every artist with real works in every configuration, from stage 03's ``embeddings`` and stage
    01's ``excluded`` artists (too few real works); write the tables, ``validation.json`` and the figures."""
    configs, figures = {}, {}
    for config in params.configurations:
        result = _validate(params, embeddings[config.name], excluded)
        paths = params.paths.config(config.name)
        write_table(result.table, paths.table("validation.csv"))
        write_table(result.centered, paths.table("validation_centered.csv"))
        write_table(result.long, paths.table("own_other.csv"))
        write_table(result.excluded, paths.table("validation_excluded.csv"))
        write_json(paths.table("validation.json"), result.headline)
        saved = _figures(params, config, result)
        figures = figures or saved
        configs[config.name] = result
    return ValidationResult(configs, figures)


# -- reading stage 05's products ------------------------------------------------------------------------------


def read_own_other(paths: ConfigPaths) -> pd.DataFrame:
    """Every validation score s_a(i) (``artist, kind, similarity``; ``kind`` ``own`` or ``other``), the
    similarity as a number and the artist as text whatever it looks like."""
    table = read_table(paths.table("own_other.csv"), needs="05_validation", columns=("artist", "kind", "similarity"))
    table["similarity"] = table["similarity"].astype(float)
    return table


def read_validation(paths: ConfigPaths, *, centered: bool = False) -> pd.DataFrame:
    """A row per validated artist (:data:`helpers.significance.VALIDATION_COLUMNS`), numbers as numbers;
    ``centered`` reads the centred statistic's table."""
    name = "validation_centered.csv" if centered else "validation.csv"
    table = read_table(paths.table(name), needs="05_validation", columns=significance.VALIDATION_COLUMNS)
    for col in ("n_real", "n_own", "n_other"):
        table[col] = table[col].astype(int)
    for col in ("statistic", "p_value", "p_adjusted", "auc", "mean_own", "mean_other"):
        table[col] = table[col].astype(float)
    table["significant"] = table["significant"] == "True"
    return table


def read_headline(paths: ConfigPaths) -> dict:
    """The validation headline numbers, as ``validation.json`` holds them."""
    return read_json(paths.table("validation.json"), needs="05_validation")
