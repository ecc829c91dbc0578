"""Stage 05, validation: are an artist's real works closer to that artist's imitations than to other
artists'? This module writes stage 05's products and reads them back.

For artist *a* and every imitation *i*, s_a(i) aggregates the cosine similarities of *a*'s real works to *i*
(mean by default). Two tests ask whether *a*'s own imitations score higher than other artists':

* **the paper's test (imitations as independent)** — a one-sided Mann–Whitney U test of s_a over *a*'s
  imitations against every other artist's, Bonferroni across artists (:func:`helpers.significance.paper_test`).
  It counts the ten imitations of one prompt as ten independent observations; kept exactly, for
  reproduction, but not calibrated;
* **the artist-level test (artists as units)** — the primary claim: the pairing of *a*'s works with *a*'s
  imitations against every mismatched pairing of one artist's works with another artist's imitations,
  Benjamini–Hochberg across artists (:mod:`helpers.artist_level`), with an effect size and its interval.

Every run measures both tests' false-positive rates on **negative controls** (:mod:`helpers.controls`):
deranged real works (each artist given another artist's works) and the random-name imitations standing in
for the artists'. Beside them, the paper's test on the **centred** score s'_a(i) = s_a(i) − mean_b s_b(i)
(b over the artists with real works), which removes hubness (imitations close to every artist's works).

Each validated artist carries the origin of its real works (:mod:`helpers.works`); when more than one origin
is present, ``validation.json`` breaks both tests' share of significant artists down by origin.

Products, per configuration: ``tables/validation.csv`` (both tests per artist), ``validation_centered.csv``,
``own_other.csv``, ``validation_excluded.csv``, ``negative_controls.csv`` (each test's false-positive rate
under each control), ``negative_control_pvalues.csv`` (every null p-value behind it), ``validation.json``
(the headline numbers) and the figures ``own_vs_other``, ``pvalues`` and ``calibration``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from . import artist_level, controls, plots, provenance, references, significance, stats
from .embeddings import Embeddings
from .errors import AuditError
from .files import Columns, read_json, read_table, write_json, write_table
from .paths import ConfigPaths
from .schema import Configuration, Params

__all__ = [
    "VALIDATION_COLUMNS",
    "CENTERED_COLUMNS",
    "TEST_NAMES",
    "ConfigValidation",
    "ValidationResult",
    "run_stage",
    "read_validation",
    "read_own_other",
    "read_controls",
    "read_control_pvalues",
    "read_headline",
    "work_origins",
]

_PAPER = {
    "statistic": "statistic_paper_test",
    "p_value": "p_paper_test",
    "p_adjusted": "p_adjusted_paper_test",
    "significant": "significant_paper_test",
}
"""The paper's test's columns, named as that test in stage 05's tables."""
CENTERED_COLUMNS = Columns(
    artist="text",
    n_real="int",
    n_own="int",
    n_other="int",
    mean_own="float",
    mean_other="float",
    auc="float",
    statistic_paper_test="float",
    p_paper_test="float",
    p_adjusted_paper_test="float",
    significant_paper_test="bool?",
)
VALIDATION_COLUMNS = Columns(
    **CENTERED_COLUMNS.kinds,
    statistic_artist_level="float",
    p_artist_level="float",
    p_adjusted_artist_level="float",
    significant_artist_level="bool?",
    effect_artist_level="float",
    effect_ci_low="float",
    effect_ci_high="float",
    identified="bool?",
    origin="text",
)
"""A flag is empty (missing) where its test was not computed (e.g. the artist-level test with fewer than
:data:`helpers.artist_level.MIN_ARTISTS` artists)."""
OWN_OTHER_COLUMNS = Columns(artist="text", kind="text", similarity="float")
TEST_NAMES = {
    "paper_test": "paper's test (imitations as independent): one-sided Mann–Whitney of the artist's own imitations' "
    "scores against every other artist's, the imitations counted as independent observations",
    "artist_level": "artist-level test (artists as units): the matched pairing of the artist's works with its "
    "imitations against every mismatched pairing of one artist's works with another's imitations",
}


@dataclass(frozen=True)
class ConfigValidation:
    """One configuration's validation: a row per validated artist (both tests), the paper's test on the
    centred score, every s(i) behind them (long form), the artists not validated with the reason, the
    negative controls (summary and every null p-value) and the headline numbers."""

    table: pd.DataFrame
    centered: pd.DataFrame
    long: pd.DataFrame
    excluded: pd.DataFrame
    controls: pd.DataFrame
    control_pvalues: pd.DataFrame
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


def _fraction(flags: pd.Series) -> float | None:
    values = flags.dropna()
    return float(values.astype(bool).mean()) if len(values) else None


def _control_numbers(summary: pd.DataFrame, n_shifts: int, n_stand_ins: int, n_validated: int) -> dict:
    """The false-positive rates of both tests under both controls, and what the controls were."""
    numbers: dict = {}
    for control, suffix in (("deranged_works", ""), ("random_names", "_random_names")):
        for test in controls.TESTS:
            row = summary[(summary["control"] == control) & (summary["test"] == test)]
            found = row.iloc[0] if len(row) else None
            numbers[f"false_positive_rate_{test}{suffix}"] = (
                None if found is None else float(found["false_positive_rate"])
            )
            for key, column in (("ci_low", "fpr_ci_low"), ("ci_high", "fpr_ci_high")):
                numbers[f"false_positive_rate_{test}{suffix}_{key}"] = None if found is None else float(found[column])
            numbers[f"familywise_error_{test}{suffix}"] = None if found is None else float(found["familywise_error"])
    shifts = (
        (
            f"deranged real works: {n_shifts} cyclic shift(s) of the {n_validated} validated artists (each artist "
            "given another artist's works)"
        )
        if n_shifts
        else "deranged real works: not run (fewer than 2 artists)"
    )
    stand = (
        f"random-name imitations standing in for the artists' imitations: {n_stand_ins} cyclic assignment(s)"
        if n_stand_ins
        else "random-name imitations: not run (fewer than 2 random names with images)"
    )
    numbers["negative_control"] = f"{shifts}; {stand}"
    return numbers


def work_origins(params: Params, real_works: pd.DataFrame | None, max_works: int) -> dict[str, str]:
    """Each artist's real-works origin (:data:`helpers.works.ORIGINS`) among the works of rank below
    ``max_works``, joined by ``+`` when they differ (``folder+metadata``); empty without a table (and under
    ``validation.standin``, where every artist's origin is ``standin``)."""
    if params.validation.standin or real_works is None or not len(real_works):
        return {}
    used = real_works[real_works["rank"] < max_works]
    return {a: "+".join(sorted(set(o))) for a, o in used.groupby("artist", sort=False)["origin"]}


def _by_origin(table: pd.DataFrame) -> dict:
    """Both tests' share of significant artists among the artists of each origin (the tests themselves run over
    every artist at once); only when more than one origin is present."""
    if table["origin"].nunique() < 2:
        return {}
    return {
        origin: {
            "n_validated": int(len(rows)),
            "fraction_significant": _fraction(rows["significant_paper_test"]),
            "fraction_significant_artist_level": _fraction(rows["significant_artist_level"]),
        }
        for origin, rows in table.groupby("origin", sort=True)
    }


def _headline(
    params: Params,
    table: pd.DataFrame,
    centered: pd.DataFrame,
    excluded: pd.DataFrame,
    summary: pd.DataFrame,
    pvalues: pd.DataFrame,
    n_choices: int,
) -> dict:
    settings = params.validation
    level = _fraction(table["significant_artist_level"])
    low = high = None
    if level is not None:
        low, high = stats.proportion_interval(
            int(table["significant_artist_level"].astype(bool).sum()), len(table), settings.confidence
        )
    rate, chance, p = artist_level.identification_test(table["identified"].to_numpy(bool), n_choices)
    replicates = pvalues.groupby("control")["replicate"].nunique()
    return {
        "fraction_significant": _fraction(table["significant_paper_test"]),
        "fraction_significant_centered": _fraction(centered["significant_paper_test"]),
        "fraction_significant_artist_level": level,
        "fraction_significant_artist_level_ci_low": low,
        "fraction_significant_artist_level_ci_high": high,
        "identification_rate": rate,
        "identification_chance": chance,
        "identification_p": p,
        **_control_numbers(
            summary, int(replicates.get("deranged_works", 0)), int(replicates.get("random_names", 0)), len(table)
        ),
        "alpha": settings.alpha,
        "correction": settings.correction,
        "artist_level_correction": settings.artist_level_correction,
        "aggregate": settings.aggregate,
        "tests": TEST_NAMES,
        "n_validated": int(len(table)),
        "n_excluded_validation": int(len(excluded)),
        "excluded_validation": excluded["artist"].tolist(),
        "real_works": "standin" if settings.standin else "real",
        "real_work_origins": {str(k): int(v) for k, v in table["origin"].value_counts().sort_index().items()},
        "by_origin": _by_origin(table),
    }


def _validate(
    params: Params, emb: Embeddings, known_excluded: pd.DataFrame, origins: dict[str, str], method: str = "zero-shot"
) -> ConfigValidation:
    settings = params.validation
    artists = emb.names("artists")
    imitations = emb.rows("imitation", "artists")
    imitated = [a for a in artists if a in set(imitations["name"])]
    real = emb.rows("real")
    if method == "reference":  # stage 04 attributed the imitations by the references: validate with the others
        real = real[
            ~references.split(
                real["name"], real["sha256"], share=params.classification.reference_share, seed=params.seed
            )
        ]
    real = real[real["name"].isin(imitated)]
    if real.empty:
        raise AuditError(
            "no real works were encoded, so nothing can be validated",
            where="validation.real_works_dir",
            fix="put real works in validation.real_works_dir (one folder per artist), or use standin: true for a smoke run",
        )
    args = (
        emb.image_vectors[real.index],
        real["name"].to_numpy(),
        emb.image_vectors[imitations.index],
        imitations["name"].to_numpy(),
        imitated,
    )
    raw = significance.scores(*args, aggregate=settings.aggregate)
    paper = {"correction": settings.correction, "alpha": settings.alpha}
    table = significance.paper_test(raw, **paper).rename(columns=_PAPER)
    table = table.merge(
        artist_level.artist_level_test(raw, correction=settings.artist_level_correction, alpha=settings.alpha),
        on="artist",
    )
    effects = artist_level.effect_intervals(
        *args, aggregate=settings.aggregate, n_boot=settings.bootstrap, confidence=settings.confidence, seed=params.seed
    )
    table = table.merge(effects, on="artist")
    table["origin"] = [("standin" if settings.standin else origins.get(a, "unrecorded")) for a in table["artist"]]
    table = table[list(VALIDATION_COLUMNS)]
    centred = significance.scores(*args, aggregate=settings.aggregate, centered=True)
    centered = significance.paper_test(centred, **paper).rename(columns=_PAPER)[list(CENTERED_COLUMNS)]
    excluded = _excluded(known_excluded, artists, imitated, set(table["artist"]))
    names = emb.rows("imitation", "random_names")
    stand_in = controls.random_name_scores(
        args[0],
        args[1],
        emb.image_vectors[names.index],
        names["name"].to_numpy(),
        imitated,
        aggregate=settings.aggregate,
    )
    control = controls.ControlSettings(
        settings.correction, settings.artist_level_correction, settings.alpha, settings.derangements, params.seed
    )
    pvalues = controls.run_controls(raw, stand_in, control)
    summary = controls.summarise(pvalues, control, settings.confidence)
    headline = _headline(params, table, centered, excluded, summary, pvalues, len(imitated))
    bound = artist_level.resolution(raw, correction=settings.artist_level_correction, alpha=settings.alpha)
    headline["artist_level_min_p"], headline["artist_level_min_named"] = bound["min_p"], bound["min_named"]
    headline["validation_works"] = "held_out" if method == "reference" else "all"
    return ConfigValidation(table, centered, significance.long_form(raw), excluded, summary, pvalues, headline)


def _figures(params: Params, config: Configuration, result: ConfigValidation) -> dict[str, plots.SavedFigure]:
    paths, weights = params.paths.config(config.name), provenance.weights(params, config)
    note = provenance.STANDIN_NOTE if params.validation.standin else None
    paper = result.table.rename(columns={v: k for k, v in _PAPER.items()})
    figures = {
        "own_vs_other": plots.own_other_distributions(
            result.long, title=f"{params.run}: real works vs imitations", weights=weights, note=note
        ),
        "pvalues": plots.sorted_pvalues(
            paper,
            alpha=params.validation.alpha,
            correction=params.validation.correction,
            title=f"{params.run}: p-values of the paper's test (imitations as independent)",
            weights=weights,
            note=note,
        ),
    }
    if len(result.control_pvalues):
        numbers = result.headline
        figures["calibration"] = plots.calibration(
            result.control_pvalues,
            result.controls,
            alpha=params.validation.alpha,
            observed={
                "paper_test": numbers["fraction_significant"],
                "artist_level": numbers["fraction_significant_artist_level"],
            },
            title=f"{params.run}: are the validation tests calibrated? (negative controls)",
            weights=weights,
            note=note,
        )
    return {name: plots.save(fig, paths.figure(name)) for name, fig in figures.items()}


def run_stage(
    params: Params,
    embeddings: dict[str | None, Embeddings],
    excluded: pd.DataFrame,
    real_works: pd.DataFrame | None = None,
) -> ValidationResult:
    """Validate every artist with real works in every configuration, from stage 03's ``embeddings``, stage
    01's ``excluded`` artists (too few real works) and ``real_works`` (whose origins break the headline down;
    without them each artist's origin reads ``unrecorded``), run the negative controls; write the tables,
    ``validation.json`` and the figures."""
    configs, figures = {}, {}
    for config in params.configurations:
        origins = work_origins(params, real_works, config.max_works)
        result = _validate(params, embeddings[config.name], excluded, origins, config.method)
        paths = params.paths.config(config.name)
        write_table(result.table, paths.table("validation.csv"))
        write_table(result.centered, paths.table("validation_centered.csv"))
        write_table(result.long, paths.table("own_other.csv"))
        write_table(result.excluded, paths.table("validation_excluded.csv"))
        write_table(result.controls, paths.table("negative_controls.csv"))
        write_table(result.control_pvalues, paths.table("negative_control_pvalues.csv"))
        write_json(paths.table("validation.json"), result.headline)
        saved = _figures(params, config, result)
        figures = figures or saved
        configs[config.name] = result
    return ValidationResult(configs, figures)


# -- reading stage 05's products ------------------------------------------------------------------------------


def read_own_other(paths: ConfigPaths) -> pd.DataFrame:
    """Every validation score s_a(i) (``artist, kind, similarity``; ``kind`` ``own`` or ``other``), the
    similarity as a number and the artist as text whatever it looks like."""
    return read_table(paths.table("own_other.csv"), needs="05_validation", columns=OWN_OTHER_COLUMNS)


def read_validation(paths: ConfigPaths, *, centered: bool = False) -> pd.DataFrame:
    """A row per validated artist (:data:`VALIDATION_COLUMNS`: both tests), numbers as numbers and flags as
    booleans; ``centered`` reads the paper's test on the centred score (:data:`CENTERED_COLUMNS`)."""
    name, columns = (
        ("validation_centered.csv", CENTERED_COLUMNS) if centered else ("validation.csv", VALIDATION_COLUMNS)
    )
    return read_table(paths.table(name), needs="05_validation", columns=columns)


def read_controls(paths: ConfigPaths) -> pd.DataFrame:
    """Each test's false-positive rate under each negative control (:data:`helpers.controls.CONTROL_COLUMNS`)."""
    return read_table(paths.table("negative_controls.csv"), needs="05_validation", columns=controls.CONTROL_COLUMNS)


def read_control_pvalues(paths: ConfigPaths) -> pd.DataFrame:
    """Every null p-value of the negative controls (:data:`helpers.controls.PVALUE_COLUMNS`)."""
    return read_table(
        paths.table("negative_control_pvalues.csv"), needs="05_validation", columns=controls.PVALUE_COLUMNS
    )


def read_headline(paths: ConfigPaths) -> dict:
    """The validation headline numbers, as ``validation.json`` holds them."""
    return read_json(paths.table("validation.json"), needs="05_validation")
