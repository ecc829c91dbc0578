"""Checks on what the statistics take — embedding matrices, label indices, name lists, probabilities —
each written once, shared by :mod:`helpers.stats` and :mod:`helpers.significance`.

Every check raises :class:`helpers.errors.AuditError` saying what is wrong, where, and how to fix it. The
valid choices of a setting (interval methods, corrections, aggregates) and what a probability is come from
the params schema, so they are defined once.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import TypeAdapter, ValidationError

from .errors import AuditError
from .schema import Probability

__all__ = [
    "matrix",
    "same_dim",
    "unit_rows",
    "cosine",
    "vector",
    "flags",
    "same_length",
    "varying",
    "label_count",
    "positive_int",
    "probability",
    "choice",
    "true_pred",
    "distinct",
    "positions",
    "accuracy_rows",
]

_PROBABILITY = TypeAdapter(Probability)


def matrix(x, what: str, where: str) -> np.ndarray:
    arr = np.asarray(x)
    if arr.ndim != 2:
        raise AuditError(
            f"{what} must be a 2-D [rows, dim] array, got shape {arr.shape}",
            where=where,
            fix="stack the embeddings into one matrix (use x[None, :] for a single row)",
        )
    if arr.shape[1] == 0:
        raise AuditError(f"{what} has no columns", where=where, fix="pass embeddings with at least one dimension")
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise AuditError(f"{what} has dtype {arr.dtype}, not numbers", where=where, fix="pass a float array")
    return arr


def same_dim(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str, where: str) -> None:
    if a.shape[1] != b.shape[1]:
        raise AuditError(
            f"{name_a} has dimension {a.shape[1]} but {name_b} has {b.shape[1]}",
            where=where,
            fix="embed both with the same model",
        )


def unit_rows(x: np.ndarray, *, what: str, where: str, dtype=np.float64, offset: int = 0) -> np.ndarray:
    x64 = np.asarray(x, dtype=np.float64)
    finite = np.isfinite(x64).all(axis=1)
    if not finite.all():
        row = offset + int(np.flatnonzero(~finite)[0])
        raise AuditError(
            f"{what} row {row} holds NaN or inf",
            where=where,
            fix="re-embed that item; check the model's output",
        )
    scale = np.abs(x64).max(axis=1, initial=0.0)  # dividing by the largest entry first keeps squares finite
    if (scale == 0).any():
        row = offset + int(np.flatnonzero(scale == 0)[0])
        raise AuditError(
            f"{what} row {row} is all zeros, so it has no direction",
            where=where,
            fix="re-embed that item or drop it",
        )
    scaled = x64 / scale[:, None]
    scaled /= np.sqrt(np.einsum("ij,ij->i", scaled, scaled))[:, None]
    return scaled.astype(dtype, copy=False)


def cosine(unit_a: np.ndarray, unit_b: np.ndarray) -> np.ndarray:
    return np.clip(unit_a @ unit_b.T, -1.0, 1.0)


def vector(x, what: str, where: str, *, minimum: int = 1) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 1:
        raise AuditError(f"{what} must be 1-D, got shape {arr.shape}", where=where, fix="pass a flat list of numbers")
    if arr.size == 0:
        raise AuditError(f"{what} is empty", where=where, fix=f"pass at least {minimum} value(s)")
    if arr.size < minimum:
        raise AuditError(
            f"{what} has {arr.size} value(s), fewer than the {minimum} this needs",
            where=where,
            fix=f"pass at least {minimum} values",
        )
    if not np.isfinite(arr).all():
        raise AuditError(f"{what} holds NaN or inf", where=where, fix="drop or fix the missing values")
    return arr


def flags(x, what: str, where: str) -> np.ndarray:
    """A non-empty 1-D boolean array (one yes/no per image)."""
    arr = np.asarray(x)
    if arr.ndim != 1:
        raise AuditError(
            f"{what} must be 1-D (one value per image), got shape {arr.shape}",
            where=where,
            fix="pass a flat boolean array",
        )
    if arr.size == 0:
        raise AuditError(f"{what} is empty", where=where, fix="pass at least one image")
    if arr.dtype != np.bool_:
        raise AuditError(
            f"{what} has dtype {arr.dtype}, not bool",
            where=where,
            fix="pass booleans, e.g. pred_idx == true_idx (0/1 or scores are not accepted)",
        )
    return arr


def same_length(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str, where: str) -> None:
    if a.shape[0] != b.shape[0]:
        raise AuditError(
            f"{name_a} has {a.shape[0]} entries but {name_b} has {b.shape[0]}",
            where=where,
            fix="pass paired values: entry k of both is the same item",
        )


def varying(x: np.ndarray, what: str, where: str) -> None:
    if (x == x[0]).all():
        raise AuditError(
            f"{what} is constant, so its ranks carry no order and a correlation with it is undefined",
            where=where,
            fix="pass values that differ",
        )


def label_count(n_labels, where: str) -> int:
    """The number of labels to match among: at least two."""
    n = positive_int(n_labels, "n_labels", where)
    if n < 2:
        raise AuditError(
            "a single label: matching among one label is always right and measures nothing",
            where=where,
            fix="use at least two labels",
        )
    return n


def positive_int(value, what: str, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise AuditError(
            f"{what} must be a whole number >= 1, got {value!r}", where=where, fix=f"pass a positive {what}"
        )
    return int(value)


def probability(value: float, what: str, where: str) -> float:
    """A number strictly between 0 and 1 (a confidence level, an alpha): the params schema's definition."""
    try:
        return float(_PROBABILITY.validate_python(value))
    except ValidationError:
        raise AuditError(
            f"{what} must lie strictly between 0 and 1, got {value!r}",
            where=where,
            fix="use e.g. 0.95 for a confidence, 0.05 for alpha",
        ) from None


def choice(table: dict, key: str, what: str, where: str):
    """``table[key]``, or an error listing the choices (the choices are the schema's)."""
    try:
        return table[key]
    except (KeyError, TypeError):
        raise AuditError(f"unknown {what} {key!r}", where=where, fix=f"use one of {list(table)}") from None


def _label_vector(x, n_labels: int, what: str, where: str) -> np.ndarray:
    arr = np.asarray(x)
    if arr.ndim != 1:
        raise AuditError(
            f"{what} must be 1-D (one label index per image), got shape {arr.shape}",
            where=where,
            fix="pass the top-1 column, e.g. indices[:, 0] from top_k",
        )
    if arr.size == 0:
        return arr.astype(np.int64)
    if not np.issubdtype(arr.dtype, np.integer):
        raise AuditError(
            f"{what} has dtype {arr.dtype}, not integer label indices", where=where, fix="pass int indices"
        )
    if arr.min() < 0 or arr.max() >= n_labels:
        raise AuditError(
            f"{what} holds index {arr.min() if arr.min() < 0 else arr.max()}, outside 0..{n_labels - 1}",
            where=where,
            fix="index into the same label list the matrix was built from",
        )
    return arr.astype(np.int64)


def true_pred(true_idx, pred_idx, n_labels: int, where: str) -> tuple[np.ndarray, np.ndarray]:
    true = _label_vector(true_idx, n_labels, "true_idx", where)
    pred = _label_vector(pred_idx, n_labels, "pred_idx", where)
    if true.size != pred.size:
        raise AuditError(
            f"true_idx has {true.size} entries but pred_idx has {pred.size}",
            where=where,
            fix="pass one true and one predicted label per image",
        )
    return true, pred


def distinct(names, where: str, *, what: str = "name", minimum: int = 2) -> list:
    if isinstance(names, str):
        raise AuditError(f"{what}s is one string, not a list", where=where, fix=f"pass a list of {what}s")
    labels = list(names)
    if len(labels) < minimum:
        raise AuditError(
            f"{len(labels)} {what}(s) given" + (": a single label" if len(labels) == 1 else ""),
            where=where,
            fix=f"pass at least {minimum} {what}s",
        )
    seen: set = set()
    for label in labels:
        if label in seen:
            raise AuditError(f"{what} {label!r} appears twice", where=where, fix=f"keep one entry per {what}")
        seen.add(label)
    return labels


def positions(labels, names: list, n_rows: int, what: str, where: str) -> np.ndarray:
    values = np.asarray(labels, dtype=object)
    if values.ndim != 1 or values.size != n_rows:
        raise AuditError(
            f"{what} has shape {values.shape} but the embeddings have {n_rows} rows",
            where=where,
            fix="give one artist per embedding row",
        )
    position = pd.Index(names).get_indexer(values) if n_rows else np.empty(0, dtype=np.int64)
    if (position < 0).any():
        unknown = values[position < 0][0]
        raise AuditError(
            f"{what} names {unknown!r}, which is not in artists",
            where=where,
            fix="add it to artists or drop its rows",
        )
    return position.astype(np.int64)


def accuracy_rows(table: pd.DataFrame, where: str) -> pd.DataFrame:
    missing = {"group", "n_images", "n_correct"} - set(getattr(table, "columns", ()))
    if missing:
        raise AuditError(
            f"the table lacks columns {sorted(missing)}", where=where, fix="pass a table from accuracy_table"
        )
    if len(table) == 0:
        raise AuditError("the accuracy table is empty", where=where, fix="pass a table from accuracy_table")
    groups = table["group"].unique()
    if len(groups) > 1:
        raise AuditError(
            f"the table mixes groups {list(groups)}",
            where=where,
            fix="select one group first, e.g. table[table.group == 'artists']",
        )
    if (table["n_images"] <= 0).any():
        raise AuditError("a row has no images", where=where, fix="pass a table from accuracy_table")
    return table
