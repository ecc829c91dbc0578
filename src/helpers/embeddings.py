"""The embeddings of one configuration, as stage 03 writes them and stages 04 and 05 take them: a plain
container with row selectors (reading and writing them is :mod:`helpers.encoding`'s job)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["Embeddings"]


@dataclass(frozen=True)
class Embeddings:
    """One configuration's stage-03 product: image and label vectors (rows L2-normalised) with their index
    tables (``images.csv``: ``row, kind, group, name, index, path, sha256``; ``labels.csv``: ``row, group,
    name, text``) and the encoder's description."""

    images: pd.DataFrame
    image_vectors: np.ndarray
    labels: pd.DataFrame
    label_vectors: np.ndarray
    encoder: dict

    def rows(self, kind: str, group: str | None = None) -> pd.DataFrame:
        """Image rows of ``kind`` (``imitation`` or ``real``), optionally of one group."""
        sel = self.images["kind"] == kind
        if group is not None:
            sel &= self.images["group"] == group
        return self.images[sel]

    def label_rows(self, group: str) -> pd.DataFrame:
        return self.labels[self.labels["group"] == group]

    def names(self, group: str) -> list[str]:
        """The names of ``group`` in label order; without label prompts (an encoder that attributes by
        reference works encodes none), in the order of their first imitation."""
        labels = self.label_rows(group)
        if len(labels):
            return labels["name"].tolist()
        return list(dict.fromkeys(self.rows("imitation", group)["name"]))
