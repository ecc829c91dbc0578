"""Stage 04: zero-shot classification of every generated image among the label prompts of its group.

An imitation of artist *a* is classified among the label prompts of all artists; an image of random name
*r* among the label prompts of all random names (the baseline). The prediction is the label with the
highest cosine similarity (:func:`helpers.stats.top_k`); a prediction is correct when it is the name in
the image's prompt. Every number comes from :mod:`helpers.stats`; this module only reads and writes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import stats
from .errors import AuditError
from .run import GROUPS, read_table, write_json, write_table

__all__ = ["Embeddings", "read_embeddings", "classify_group", "run_stage", "headline"]


@dataclass(frozen=True)
class Embeddings:
    """The saved output of stage 03: image and label vectors (rows L2-normalised) with their index tables."""

    images: pd.DataFrame
    image_vectors: np.ndarray
    labels: pd.DataFrame
    label_vectors: np.ndarray
    encoder: dict

    def rows(self, kind: str, group: str | None = None) -> pd.DataFrame:
        sel = self.images["kind"] == kind
        if group is not None:
            sel &= self.images["group"] == group
        return self.images[sel]

    def label_rows(self, group: str) -> pd.DataFrame:
        return self.labels[self.labels["group"] == group]


def read_embeddings(folder: Path) -> Embeddings:
    """Read ``embeddings/`` (``images.npy``+``images.csv``, ``labels.npy``+``labels.csv``, ``encoder.json``)."""
    folder = Path(folder)
    needs = "03_encoding"
    images, labels = read_table(folder / "images.csv", needs=needs), read_table(folder / "labels.csv", needs=needs)
    try:
        iv = np.load(folder / "images.npy", allow_pickle=False)
        lv = np.load(folder / "labels.npy", allow_pickle=False)
        encoder = json.loads((folder / "encoder.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AuditError(
            f"embeddings in {folder} cannot be read ({exc})",
            fix="rerun 03_encoding (cached vectors make it quick)",
        ) from None
    for vec, table, name in ((iv, images, "images"), (lv, labels, "labels")):
        if vec.ndim != 2 or len(vec) != len(table):
            raise AuditError(
                f"{folder}/{name}.npy has shape {vec.shape} but {name}.csv has {len(table)} rows",
                fix="the files are from different runs or half-written: rerun 03_encoding",
            )
    for col in ("index", "row"):
        if col in images.columns:
            images[col] = pd.to_numeric(images[col], errors="coerce").astype("Int64")
    return Embeddings(images, iv, labels, lv, encoder)


def classify_group(emb: Embeddings, group: str, *, top_k: int = 5) -> pd.DataFrame:
    """Predictions for one group's images among that group's labels.

    Columns: ``group, name, image, predicted, correct, score, in_top_k`` where ``score`` is the cosine
    similarity of the predicted label and ``in_top_k`` says whether the true name is among the ``top_k``
    most similar labels.
    """
    images, labels = emb.rows("imitation", group), emb.label_rows(group)
    if images.empty:
        raise AuditError(f"no {group} images in the embeddings", fix="rerun 02_generation and 03_encoding")
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


def headline(pred: pd.DataFrame, table: pd.DataFrame, names: list[str], params) -> dict:
    """The group's numbers for summary.json, from its predictions and its :func:`stats.accuracy_table`:
    mean-over-names accuracy with bootstrap interval, pooled accuracy, top-k accuracy, chance 1/K and the
    permutation p-value against label shuffling."""
    c = params.classification
    true, predicted = _indices(pred, names)
    low, high = stats.bootstrap_mean_ci(table["accuracy"].to_numpy(), n_boot=c.bootstrap, confidence=c.confidence, seed=params.seed)
    return {
        "n_names": len(names),
        "n_images": int(len(pred)),
        "accuracy": float(stats.mean_accuracy(table)),
        "accuracy_ci_low": float(low),
        "accuracy_ci_high": float(high),
        "accuracy_pooled": float(stats.pooled_accuracy(table)),
        f"top{c.top_k}_accuracy": float(pred["in_top_k"].mean()),
        "chance": float(stats.chance(len(names))),
        "permutation_p": float(
            stats.permutation_test_vs_chance(true, predicted, len(names), n_perm=c.permutations, seed=params.seed)
        ),
    }


@dataclass(frozen=True)
class Result:
    """What stage 04 produced, for the notebook's figures."""

    predictions: pd.DataFrame
    accuracy: pd.DataFrame
    numbers: dict
    confusion: np.ndarray
    artist_names: list[str]
    curve: pd.DataFrame


def run_stage(params) -> Result:
    """Classify both groups; write predictions.csv, accuracy.csv, confusion_artists.csv, classification.json,
    and the sample-size curve (sample_size.csv)."""
    paths, c = params.paths, params.classification
    emb = read_embeddings(paths.embeddings)
    preds, tables, numbers = [], [], {}
    for group in GROUPS:
        names = emb.label_rows(group)["name"].tolist()
        pred = classify_group(emb, group, top_k=c.top_k)
        true, predicted = _indices(pred, names)
        table = stats.accuracy_table(true, predicted, names, group=group, interval=c.interval, confidence=c.confidence)
        tables.append(table)
        numbers[group] = headline(pred, table, names, params)
        preds.append(pred)
        if group == "artists":
            artist_names = names
            confusion = stats.confusion_matrix(true, predicted, len(names))
            curve = stats.sample_size_curve(
                true, predicted, len(names), repeats=c.subsample_repeats, confidence=c.confidence, seed=params.seed
            )
    predictions, accuracy = pd.concat(preds, ignore_index=True), pd.concat(tables, ignore_index=True)
    write_table(predictions, paths.predictions_csv)
    write_table(accuracy, paths.accuracy_csv)
    write_table(pd.DataFrame(confusion, index=artist_names, columns=artist_names).rename_axis("true").reset_index(), paths.tables / "confusion_artists.csv")
    write_table(curve, paths.tables / "sample_size.csv")
    write_json(paths.tables / "classification.json", numbers)
    return Result(predictions, accuracy, numbers, confusion, artist_names, curve)
