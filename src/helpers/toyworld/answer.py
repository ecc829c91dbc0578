"""Read a finished toy-world run and state the known answer: how imitation depends on caption count.

    python -m helpers.toyworld answer --run demo-all

Reads ``outputs/<run>/tables/accuracy.csv`` (per-artist top-1 accuracy), ``tables/selection.csv`` (caption
counts) and ``summary.json``, and returns the headline numbers with the Spearman correlation of accuracy
with caption count and the mean accuracy of artists with at most / more than ``threshold`` captions.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import AuditError
from ..paths import OUTPUTS_DIR

__all__ = ["imitation_by_count"]


def imitation_by_count(run: str, *, outputs: Path | None = None, threshold: int = 100) -> dict[str, Any]:
    """The known-answer numbers of run ``run`` (a folder under ``outputs/``)."""
    import pandas as pd
    from scipy.stats import spearmanr

    root = Path(outputs or OUTPUTS_DIR) / run
    needed = [root / "tables" / "accuracy.csv", root / "tables" / "selection.csv", root / "summary.json"]
    missing = [str(p) for p in needed if not p.is_file()]
    if missing:
        raise AuditError(f"{missing[0]} does not exist", where=f"run {run}", fix="finish the run first (python -m helpers.runner)")
    accuracy = pd.read_csv(needed[0], keep_default_na=False)
    counts = pd.read_csv(needed[1], keep_default_na=False)[["artist", "caption_count"]]
    summary = json.loads(needed[2].read_text(encoding="utf-8"))
    table = accuracy[accuracy["group"] == "artists"].merge(counts, left_on="name", right_on="artist", validate="1:1")
    rare = table[table["caption_count"] <= threshold]
    common = table[table["caption_count"] > threshold]
    rho, p = spearmanr(table["accuracy"], table["caption_count"]) if len(table) > 2 else (float("nan"), float("nan"))
    return {
        "run": run,
        "n_artists": int(len(table)),
        "accuracy": summary.get("accuracy"),
        "accuracy_random_names": summary.get("accuracy_random_names"),
        "chance_random_names": summary.get("chance_random_names"),
        "fraction_significant": summary.get("fraction_significant"),
        "spearman_rho": float(rho),
        "spearman_p": float(p),
        f"mean_accuracy_at_most_{threshold}": float(rare["accuracy"].mean()) if len(rare) else None,
        f"mean_accuracy_over_{threshold}": float(common["accuracy"].mean()) if len(common) else None,
        f"n_at_most_{threshold}": int(len(rare)),
        f"n_over_{threshold}": int(len(common)),
    }
