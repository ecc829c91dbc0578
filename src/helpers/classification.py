"""Stage 04, classification: zero-shot classification of every generated image among the label prompts of
its group; this module writes stage 04's products and reads them back.

An imitation of artist *a* is classified among the label prompts of all artists; an image of random name
*r* among the label prompts of all random names (the baseline). The prediction is the label with the
highest cosine similarity (:func:`helpers.stats.top_k`); a prediction is correct when it is the name in
the image's prompt. Every number comes from :mod:`helpers.stats`; this module only reads, composes and
writes.

Two numbers put the accuracy in context. The **ceiling**: the artists' real works classified among the
same label prompts — how often CLIP names an artist from the artist's own work. The **exposure**: per-artist
accuracy against how many captions named the artist (stage 01's count), as Spearman's ρ.

Products, per configuration: ``tables/predictions.csv``, ``tables/accuracy.csv``,
``tables/confusion_artists.csv``, ``tables/sample_size.csv``, ``tables/ceiling.csv``,
``tables/classification.json`` (the headline numbers of each group, the ceiling and the exposure) and the
figures ``accuracy_per_artist``, ``confusion``, ``sample_size``, ``accuracy_vs_ceiling``,
``accuracy_vs_captions``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import attribution, plots, provenance, significance, stats
from . import exposure as exposure_curve
from .embeddings import Embeddings
from .errors import AuditError
from .files import Columns, read_json, read_table, write_json, write_table
from .paper import PAPER_RULE
from .paths import ConfigPaths
from .schema import Configuration, Params

__all__ = [
    "classify_group",
    "headline",
    "ConfigClassification",
    "ClassificationResult",
    "run_stage",
    "read_predictions",
    "read_accuracy",
    "read_headline",
    "read_ceiling",
    "ceiling",
    "exposure",
    "PREDICTION_COLUMNS",
    "CEILING_COLUMNS",
]

PREDICTION_COLUMNS = Columns(
    method="text",
    group="text",
    name="text",
    image="text",
    predicted="text",
    correct="bool",
    score="float",
    in_top_k="bool",
)
CEILING_COLUMNS = Columns(artist="text", n_real="int", n_correct="int", accuracy="float")
_GROUPS = ("artists", "random_names")


def measured_names(emb: Embeddings, group: str) -> list[str]:
    """The names of ``group`` that have images, in label order: the labels they are classified among (a name
    without images — possible only for images made elsewhere — is neither a target nor a candidate)."""
    have = set(emb.rows("imitation", group)["name"])
    return [n for n in emb.names(group) if n in have]


def classify_group(emb: Embeddings, group: str, *, top_k: int = 5) -> pd.DataFrame:
    """Predictions for one group's images among the labels of that group's names that have images.

    Columns: ``group, name, image, predicted, correct, score, in_top_k`` where ``score`` is the cosine
    similarity of the predicted label and ``in_top_k`` says whether the true name is among the ``top_k``
    most similar labels.
    """
    images, labels = emb.rows("imitation", group), emb.label_rows(group)
    if images.empty:
        raise AuditError(f"no {group} images in the embeddings", fix="rerun 02_generation and 03_encoding")
    labels = labels[labels["name"].isin(set(images["name"]))]
    label_names = labels["name"].tolist()
    position = {n: i for i, n in enumerate(label_names)}
    unknown = sorted(set(images["name"]) - set(position))
    if unknown:
        raise AuditError(f"{group} images of {unknown[:3]} have no label prompt", fix="rerun 03_encoding")
    k = min(top_k, len(label_names))
    idx, scores = stats.top_k(emb.image_vectors[images.index], emb.label_vectors[labels.index], k=k)
    true = images["name"].map(position).to_numpy()
    return pd.DataFrame(
        {
            "method": "zero-shot",
            "group": group,
            "name": images["name"].to_numpy(),
            "image": images["path"].to_numpy(),
            "predicted": np.asarray(label_names, dtype=object)[idx[:, 0]],
            "correct": idx[:, 0] == true,
            "score": scores[:, 0],
            "in_top_k": (idx == true[:, None]).any(axis=1),
        }
    )


def _indices(pred: pd.DataFrame, names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    position = {n: i for i, n in enumerate(names)}
    return pred["name"].map(position).to_numpy(), pred["predicted"].map(position).to_numpy()


def headline(pred: pd.DataFrame, table: pd.DataFrame, names: list[str], params: Params, seed: int) -> dict:
    """One group's headline numbers, from its predictions and its :func:`stats.accuracy_table`:
    mean-over-names accuracy with bootstrap interval, pooled accuracy, top-k accuracy, chance 1/K and the
    permutation p-value against label shuffling (``seed`` seeds both resamplings)."""
    settings = params.classification
    true, predicted = _indices(pred, names)
    low, high = stats.bootstrap_mean_ci(
        table["accuracy"].to_numpy(), n_boot=settings.bootstrap, confidence=settings.confidence, seed=seed
    )
    return {
        "n_names": len(names),
        "n_images": int(len(pred)),
        "accuracy": float(stats.mean_accuracy(table)),
        "accuracy_ci_low": float(low),
        "accuracy_ci_high": float(high),
        "accuracy_pooled": float(stats.pooled_accuracy(table)),
        f"top{settings.top_k}_accuracy": float(pred["in_top_k"].mean()),
        "chance": float(stats.chance(len(names))),
        "permutation_p": float(
            stats.permutation_test_vs_chance(true, predicted, len(names), n_perm=settings.permutations, seed=seed)
        ),
    }


def ceiling(emb: Embeddings) -> pd.DataFrame:
    """Each artist's real works classified among the artists' label prompts: ``artist, n_real, n_correct,
    accuracy`` for the artists with real works (accuracy = n_correct / n_real), in label order."""
    labels, real = emb.label_rows("artists"), emb.rows("real")
    names = labels["name"].tolist()
    real = real[real["name"].isin(names)]
    if real.empty:
        return pd.DataFrame(columns=list(CEILING_COLUMNS))
    idx, _ = stats.top_k(emb.image_vectors[real.index], emb.label_vectors[labels.index], k=1)
    position = {n: i for i, n in enumerate(names)}
    return ceiling_table(real["name"].to_numpy(), idx[:, 0] == real["name"].map(position).to_numpy(), names)


def ceiling_table(artist_of_work, correct, names: list[str]) -> pd.DataFrame:
    """``artist, n_real, n_correct, accuracy`` from each real work's artist and whether it was named right,
    in the order of ``names``."""
    if not len(artist_of_work):
        return pd.DataFrame(columns=list(CEILING_COLUMNS))
    right = pd.Series(np.asarray(correct, dtype=bool), index=np.asarray(artist_of_work, dtype=object))
    by = right.groupby(level=0, sort=False)
    table = pd.DataFrame({"n_real": by.size(), "n_correct": by.sum().astype(int)})
    table = table.loc[[n for n in names if n in table.index]].rename_axis("artist").reset_index()
    table["accuracy"] = table["n_correct"] / table["n_real"]
    return table[list(CEILING_COLUMNS)]


def _ceiling_numbers(accuracy: pd.DataFrame, table: pd.DataFrame) -> dict:
    """``ceiling_accuracy`` (mean over artists with real works) and ``accuracy_vs_ceiling``: the imitation
    accuracy over the same artists divided by it."""
    if table.empty:
        return {"ceiling_accuracy": None, "accuracy_vs_ceiling": None, "n_ceiling": 0}
    artists = accuracy[accuracy["group"] == "artists"].set_index("name")
    mean_ceiling = float(table["accuracy"].mean())
    mean_imitation = float(artists.loc[table["artist"], "accuracy"].mean())
    ratio = mean_imitation / mean_ceiling if mean_ceiling > 0 else None
    return {"ceiling_accuracy": mean_ceiling, "accuracy_vs_ceiling": ratio, "n_ceiling": int(len(table))}


def exposure(accuracy: pd.DataFrame, artists: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Per-artist accuracy beside stage 01's caption count (``artist, caption_count, accuracy``) and
    Spearman's ρ between them. Without verified counts (no caption metadata), or when either column is
    constant or fewer than 3 artists are measured, ρ and p are ``None`` and ``note`` says why. Beside ρ, the
    mean accuracy of the artists named in more than :data:`PAPER_RULE` captions and of the others (``None``
    for a group without artists)."""
    acc = accuracy[accuracy["group"] == "artists"].set_index("name")["accuracy"]
    counts = artists.set_index("artist")["caption_count"]
    table = pd.DataFrame(
        {"artist": acc.index, "caption_count": counts.reindex(acc.index).to_numpy(), "accuracy": acc.to_numpy()}
    )
    numbers = {
        "spearman_caption_count": None,
        "spearman_caption_count_p": None,
        "counts_verified": False,
        "note": "",
        f"accuracy_over_{PAPER_RULE}_captions": None,
        f"accuracy_at_most_{PAPER_RULE}_captions": None,
    }
    if not table["caption_count"].isna().any():
        for key, rows in (
            (f"accuracy_over_{PAPER_RULE}_captions", table["caption_count"] > PAPER_RULE),
            (f"accuracy_at_most_{PAPER_RULE}_captions", table["caption_count"] <= PAPER_RULE),
        ):
            numbers[key] = float(table.loc[rows, "accuracy"].mean()) if rows.any() else None
    if table["caption_count"].isna().any():
        numbers["note"] = "caption counts not verified (no caption metadata): no correlation computed"
    elif len(table) < 3 or table["caption_count"].nunique() < 2 or table["accuracy"].nunique() < 2:
        numbers.update(counts_verified=True, note="fewer than 3 artists, or constant counts or accuracies: ρ undefined")
    else:
        rho, p = significance.spearman(table["caption_count"].to_numpy(float), table["accuracy"].to_numpy(float))
        numbers.update(spearman_caption_count=float(rho), spearman_caption_count_p=float(p), counts_verified=True)
    return table, numbers


def exposure_threshold(params: Params, accuracy: pd.DataFrame, table: pd.DataFrame, chance: float) -> dict | None:
    """The exposure at which the fitted accuracy curve reaches ``classification.exposure_level``, with its
    bootstrap interval over artists (:func:`helpers.exposure.threshold_fit`); ``None`` without verified
    counts or when the level is not above chance."""
    settings = params.classification
    if table["caption_count"].isna().any() or not len(table) or not chance < settings.exposure_level:
        return None
    rows = accuracy[accuracy["group"] == "artists"].set_index("name").loc[table["artist"]]
    return exposure_curve.threshold_fit(
        table["caption_count"].astype(float).to_numpy(),
        rows["n_correct"].to_numpy(),
        rows["n_images"].to_numpy(),
        chance=chance,
        level=settings.exposure_level,
        n_boot=settings.exposure_bootstrap,
        confidence=settings.confidence,
        seed=params.seed,
    ).as_dict()


def _missing_group(n_names: int, top_k: int) -> dict:
    reason = (
        f"baseline missing: {'no name' if n_names == 0 else 'one name'} of the random-names group has images "
        "(the folder generator's shortfall.csv lists them); nothing to classify among"
    )
    keys = (
        "accuracy",
        "accuracy_ci_low",
        "accuracy_ci_high",
        "accuracy_pooled",
        f"top{top_k}_accuracy",
        "chance",
        "permutation_p",
    )
    return {"n_names": n_names, "n_images": 0, **dict.fromkeys(keys), "missing": reason}


@dataclass(frozen=True)
class ConfigClassification:
    """One configuration's classification: predictions and per-name accuracy of both groups, the headline
    numbers by group (plus ``ceiling`` and ``exposure``), the artists' confusion matrix, the sample-size
    curve, the ceiling table and the accuracy beside caption counts."""

    predictions: pd.DataFrame
    accuracy: pd.DataFrame
    headline: dict[str, dict]
    confusion: np.ndarray
    artist_names: list[str]
    curve: pd.DataFrame
    ceiling: pd.DataFrame
    exposure: pd.DataFrame
    extra: dict[str, pd.DataFrame]
    """Reference attribution's own tables (``reference_works``, ``retrieval``, ``attraction``); empty for zero-shot."""


@dataclass(frozen=True)
class ClassificationResult:
    """What stage 04 produced: each configuration's classification (key ``None`` in a run of one) and the
    first configuration's figures."""

    configs: dict[str | None, ConfigClassification]
    figures: dict[str, plots.SavedFigure]

    @property
    def first(self) -> ConfigClassification:
        return next(iter(self.configs.values()))


def _classify(params: Params, config: Configuration, emb: Embeddings, artists: pd.DataFrame) -> ConfigClassification:
    settings = params.classification
    preds, tables, numbers = [], [], {}
    extra: dict[str, pd.DataFrame] = {}
    if config.method == "reference":
        attributed = attribution.attribute(params, emb, measured_names(emb, "artists"))
        extra = attributed.tables
    for group in _GROUPS:
        names = measured_names(emb, group)
        if config.method == "reference":
            if group != "artists":
                numbers[group] = {
                    **_missing_group(len(names), settings.top_k),
                    "missing": attribution.NO_BASELINE,
                    "attraction": attributed.attraction,
                }
                continue
            names, pred = attributed.names, attributed.predictions
        elif group != "artists" and len(names) < 2:  # images made elsewhere without a usable baseline
            numbers[group] = _missing_group(len(names), settings.top_k)
            continue
        else:
            pred = classify_group(emb, group, top_k=settings.top_k)
        true, predicted = _indices(pred, names)
        table = stats.accuracy_table(
            true, predicted, names, group=group, interval=settings.interval, confidence=settings.confidence
        )
        tables.append(table)
        numbers[group] = {**headline(pred, table, names, params, params.seed), "method": config.method}
        preds.append(pred)
        if group == "artists":
            artist_names = names
            confusion = stats.confusion_matrix(true, predicted, len(names))
            curve = stats.sample_size_curve(
                true,
                predicted,
                len(names),
                repeats=settings.subsample_repeats,
                confidence=settings.confidence,
                seed=params.seed,
            )
    accuracy = pd.concat(tables, ignore_index=True)
    ceiling_rows = (
        ceiling_table(attributed.held_names, attributed.held_correct, attributed.names)
        if config.method == "reference"
        else ceiling(emb)
    )
    numbers["ceiling"] = _ceiling_numbers(accuracy, ceiling_rows)
    exposure_table, numbers["exposure"] = exposure(accuracy, artists)
    numbers["exposure"]["threshold"] = exposure_threshold(
        params, accuracy, exposure_table, numbers["artists"]["chance"]
    )
    if config.method == "reference":
        numbers["reference"] = attributed.numbers
    return ConfigClassification(
        pd.concat(preds, ignore_index=True),
        accuracy,
        numbers,
        confusion,
        artist_names,
        curve,
        ceiling_rows,
        exposure_table,
        extra,
    )


def _write(paths: ConfigPaths, result: ConfigClassification) -> None:
    write_table(result.predictions, paths.table("predictions.csv"))
    write_table(result.accuracy, paths.table("accuracy.csv"))
    names = result.artist_names
    confusion = pd.DataFrame(result.confusion, index=names, columns=names).rename_axis("true").reset_index()
    write_table(confusion, paths.table("confusion_artists.csv"))
    write_table(result.curve, paths.table("sample_size.csv"))
    write_table(result.ceiling, paths.table("ceiling.csv"))
    write_table(
        result.extra.get("reference_works", pd.DataFrame(columns=list(attribution.REFERENCE_COLUMNS))),
        paths.table("reference_works.csv"),
    )
    for name in ("retrieval", "attraction"):
        if name in result.extra:
            write_table(result.extra[name], paths.table(f"{name}.csv"))
    write_json(paths.table("classification.json"), result.headline)


def _figures(params: Params, config: Configuration, result: ConfigClassification) -> dict[str, plots.SavedFigure]:
    paths, weights = params.paths.config(config.name), provenance.weights(params, config)
    art, rnd = result.headline["artists"], result.headline["random_names"]
    artists = result.accuracy[result.accuracy["group"] == "artists"]
    figures = {
        "accuracy_per_artist": plots.accuracy_bars(
            artists,
            chance=art["chance"],
            random_names=rnd["accuracy"],  # None: missing
            title=f"{params.run}: top-1 accuracy per artist",
            weights=weights,
        ),
        "confusion": plots.confusion_heatmap(
            result.confusion, result.artist_names, title=f"{params.run}: confusion matrix", weights=weights
        ),
        "sample_size": plots.sample_size_curve(
            result.curve, chance=art["chance"], weights=weights, title=f"{params.run}: accuracy vs images per artist"
        ),
        "accuracy_vs_captions": plots.accuracy_vs_captions(
            result.exposure,
            min_images=params.selection.min_images,
            verified=result.headline["exposure"]["counts_verified"],
            title=f"{params.run}: accuracy vs captions naming the artist",
            weights=weights,
            note=result.headline["exposure"]["note"] or None,
            fit=result.headline["exposure"].get("threshold"),
        ),
    }
    if len(result.ceiling):
        merged = result.ceiling.rename(columns={"accuracy": "ceiling"}).merge(
            artists[["name", "accuracy"]].rename(columns={"name": "artist"}), on="artist"
        )
        figures["accuracy_vs_ceiling"] = plots.accuracy_vs_ceiling(
            merged,
            title=f"{params.run}: imitation accuracy vs the real works' (ceiling)",
            weights=weights,
            note=provenance.STANDIN_NOTE if params.validation.standin else None,
        )
    return {name: plots.save(fig, paths.figure(name)) for name, fig in figures.items()}


def run_stage(params: Params, embeddings: dict[str | None, Embeddings], artists: pd.DataFrame) -> ClassificationResult:
    """Classify both groups of every configuration from stage 03's ``embeddings``, the real works for the
    ceiling, and relate accuracy to stage 01's ``artists`` (with their caption counts); write the tables,
    ``classification.json`` and the figures."""
    configs, figures = {}, {}
    for config in params.configurations:
        result = _classify(params, config, embeddings[config.name], artists)
        _write(params.paths.config(config.name), result)
        saved = _figures(params, config, result)
        figures = figures or saved
        configs[config.name] = result
    return ClassificationResult(configs, figures)


# -- reading stage 04's products ------------------------------------------------------------------------------


def read_predictions(paths: ConfigPaths) -> pd.DataFrame:
    """One row per image: :data:`PREDICTION_COLUMNS` (``correct``, ``in_top_k`` booleans, ``score`` a number)."""
    return read_table(paths.table("predictions.csv"), needs="04_classification", columns=PREDICTION_COLUMNS)


def read_accuracy(paths: ConfigPaths) -> pd.DataFrame:
    """Per-name accuracy with its interval (:data:`helpers.stats.ACCURACY_COLUMNS`), numbers as numbers."""
    return read_table(paths.table("accuracy.csv"), needs="04_classification", columns=stats.ACCURACY_COLUMNS)


def read_headline(paths: ConfigPaths) -> dict[str, dict]:
    """The headline numbers of each group (``artists``, ``random_names``), as ``classification.json`` holds them."""
    return read_json(paths.table("classification.json"), needs="04_classification")


def read_ceiling(paths: ConfigPaths) -> pd.DataFrame:
    """The real works classified among the artists' labels: ``artist, n_real, n_correct, accuracy``."""
    return read_table(paths.table("ceiling.csv"), needs="04_classification", columns=CEILING_COLUMNS)
