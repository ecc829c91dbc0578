"""Every path the project uses, derived from one root. No other module joins a path by hand.

A run folder ``outputs/<run>/`` holds what the whole run shares (names, real works, images, the record,
the report) and, per configuration, its results (embeddings, tables, figures, ``summary.json``). A run of
one configuration keeps its results in the run folder itself; a sweep keeps each configuration's in
``configs/<config>/`` (:meth:`RunPaths.config`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "PROJECT_ROOT",
    "PARAMS_DIR",
    "NOTEBOOKS_DIR",
    "OUTPUTS_DIR",
    "CACHE_DIR",
    "TINY_CACHE",
    "EMBEDDING_CACHE",
    "RunPaths",
    "ConfigPaths",
    "ImagePaths",
    "resolve_path",
]

PROJECT_ROOT = Path(os.environ.get("IMITATION_AUDIT_ROOT", Path(__file__).resolve().parents[2])).resolve()
PARAMS_DIR = PROJECT_ROOT / "params"
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
OUTPUTS_DIR = Path(os.environ.get("IMITATION_AUDIT_OUTPUTS", PROJECT_ROOT / "outputs")).resolve()
# Content-addressed caches shared by runs: tiny random-weight models, embeddings.
CACHE_DIR = Path(os.environ.get("IMITATION_AUDIT_CACHE", OUTPUTS_DIR / ".cache")).resolve()
TINY_CACHE = CACHE_DIR / "tiny"
EMBEDDING_CACHE = CACHE_DIR / "embeddings"


def resolve_path(value: str | os.PathLike) -> Path:
    """A path from a params file or a table: absolute as given, else relative to the project root."""
    p = Path(value).expanduser()
    return p if p.is_absolute() else PROJECT_ROOT / p


@dataclass(frozen=True)
class ImagePaths:
    """The images of one generation setting: ``<root>/<group>/<folder>/<index>.png`` with its manifest.

    Paths in manifests are relative to the run folder (``prefix`` is this folder relative to it)."""

    root: Path
    prefix: str

    @property
    def manifest(self) -> Path:
        return self.root / "manifest.csv"

    @property
    def settings(self) -> Path:
        """The settings the images were made with (a run folder never mixes two settings)."""
        return self.root / "generation.json"

    def relative(self, group: str, folder: str, index: int) -> str:
        """The run-relative POSIX path of one image; ``folder`` is the name's slug."""
        return f"{self.prefix}/{group}/{folder}/{index:03d}.png"


@dataclass(frozen=True)
class ConfigPaths:
    """The results of one configuration: embeddings, tables, figures and ``summary.json``."""

    root: Path

    @property
    def embeddings(self) -> Path:
        return self.root / "embeddings"

    def embedding_file(self, name: str) -> Path:
        """``images.npy``, ``images.csv``, ``labels.npy``, ``labels.csv`` or ``encoder.json``."""
        return self.embeddings / name

    @property
    def tables(self) -> Path:
        return self.root / "tables"

    def table(self, name: str) -> Path:
        """A file under ``tables/`` (``predictions.csv``, ``classification.json``, ...)."""
        return self.tables / name

    @property
    def figures(self) -> Path:
        return self.root / "figures"

    def figure(self, name: str) -> Path:
        """``figures/<name>.png``."""
        return self.figures / f"{name}.png"

    @property
    def summary_json(self) -> Path:
        return self.root / "summary.json"


@dataclass(frozen=True)
class RunPaths(ConfigPaths):
    """The layout of one run folder, ``outputs/<run>/`` (the output contract in the README).

    As a :class:`ConfigPaths` it is the result folder of a run of one configuration."""

    @classmethod
    def for_run(cls, run: str, outputs_dir: Path | None = None) -> RunPaths:
        return cls((Path(outputs_dir) if outputs_dir else OUTPUTS_DIR) / run)

    @property
    def run_json(self) -> Path:
        return self.root / "run.json"

    @property
    def lock_file(self) -> Path:
        """Held by the runner (and by a stage run by hand) while it works here: :mod:`helpers.lock`."""
        return self.root / ".lock"

    @property
    def params_copy(self) -> Path:
        return self.root / "params.yaml"

    @property
    def artists_csv(self) -> Path:
        return self.root / "artists.csv"

    @property
    def random_names_csv(self) -> Path:
        return self.root / "random_names.csv"

    @property
    def selection_csv(self) -> Path:
        return self.table("selection.csv")

    @property
    def synthetic_metadata(self) -> Path:
        return self.root / "metadata" / "synthetic.parquet"

    @property
    def real_manifest(self) -> Path:
        return self.root / "real_works.csv"

    @property
    def real_excluded_csv(self) -> Path:
        return self.table("real_works_excluded.csv")

    @property
    def real_skipped_csv(self) -> Path:
        return self.table("real_works_skipped.csv")

    @property
    def real_duplicates_csv(self) -> Path:
        return self.table("real_works_duplicates.csv")

    @property
    def real_captions_csv(self) -> Path:
        return self.table("real_works_captions.csv")

    def images(self, generation: str | None = None) -> ImagePaths:
        """The images of one generation setting: ``images/`` in a run of one, ``images/<generation>/`` in a sweep."""
        if generation is None:
            return ImagePaths(self.root / "images", "images")
        return ImagePaths(self.root / "images" / generation, f"images/{generation}")

    @property
    def standins(self) -> ImagePaths:
        """Stand-in "real" works (smoke profile): ``real_standin/<folder>/<index>.png``."""
        return ImagePaths(self.root / "real_standin", "real_standin")

    def standin_relative(self, folder: str, index: int) -> str:
        return f"real_standin/{folder}/{index:03d}.png"

    def config(self, name: str | None) -> ConfigPaths:
        """The results folder of configuration ``name`` (``None``: a run of one, the run folder itself)."""
        return self if name is None else ConfigPaths(self.root / "configs" / name)

    @property
    def notebooks(self) -> Path:
        return self.root / "notebooks"

    def notebook(self, stage: str, suffix: str = ".ipynb") -> Path:
        return self.notebooks / f"{stage}{suffix}"

    @property
    def report_html(self) -> Path:
        return self.root / "report.html"

    def in_run(self, path: str | os.PathLike) -> Path:
        """A path from a run table: absolute as written, else relative to the run folder."""
        p = Path(path)
        return p if p.is_absolute() else self.root / p
