"""Every path the project uses, derived from one root. No other module builds paths by hand."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PROJECT_ROOT", "PARAMS_DIR", "NOTEBOOKS_DIR", "OUTPUTS_DIR", "CACHE_DIR", "RunPaths", "STAGES"]

PROJECT_ROOT = Path(os.environ.get("IMITATION_AUDIT_ROOT", Path(__file__).resolve().parents[2])).resolve()
PARAMS_DIR = PROJECT_ROOT / "params"
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
OUTPUTS_DIR = Path(os.environ.get("IMITATION_AUDIT_OUTPUTS", PROJECT_ROOT / "outputs")).resolve()
# Content-addressed caches shared by runs: tiny random-weight models, embeddings.
CACHE_DIR = Path(os.environ.get("IMITATION_AUDIT_CACHE", OUTPUTS_DIR / ".cache")).resolve()

# The pipeline, in order. Notebook files are notebooks/<stage>.py (jupytext percent format).
STAGES = ("01_selection", "02_generation", "03_encoding", "04_classification", "05_validation")


@dataclass(frozen=True)
class RunPaths:
    """The layout of one run folder, ``outputs/<run>/`` (the output contract in the README)."""

    root: Path

    @classmethod
    def for_run(cls, run: str, outputs_dir: Path | None = None) -> RunPaths:
        return cls((Path(outputs_dir) if outputs_dir else OUTPUTS_DIR) / run)

    @property
    def run_json(self) -> Path:
        return self.root / "run.json"

    @property
    def params_copy(self) -> Path:
        return self.root / "params.yaml"

    @property
    def artists_csv(self) -> Path:
        return self.root / "artists.csv"

    @property
    def selection_csv(self) -> Path:
        return self.root / "tables" / "selection.csv"

    @property
    def random_names_csv(self) -> Path:
        return self.root / "random_names.csv"

    @property
    def images(self) -> Path:
        return self.root / "images"

    @property
    def manifest(self) -> Path:
        return self.images / "manifest.csv"

    @property
    def real_standin(self) -> Path:
        return self.root / "real_standin"

    @property
    def real_manifest(self) -> Path:
        return self.root / "real_works.csv"

    @property
    def embeddings(self) -> Path:
        return self.root / "embeddings"

    @property
    def tables(self) -> Path:
        return self.root / "tables"

    @property
    def predictions_csv(self) -> Path:
        return self.tables / "predictions.csv"

    @property
    def accuracy_csv(self) -> Path:
        return self.tables / "accuracy.csv"

    @property
    def validation_csv(self) -> Path:
        return self.tables / "validation.csv"

    @property
    def summary_json(self) -> Path:
        return self.root / "summary.json"

    @property
    def figures(self) -> Path:
        return self.root / "figures"

    @property
    def notebooks(self) -> Path:
        return self.root / "notebooks"

    @property
    def report_html(self) -> Path:
        return self.root / "report.html"

    def inside(self, path: Path) -> bool:
        """True when ``path`` (after resolving links and ``..``) lies inside this run folder."""
        try:
            Path(path).resolve().relative_to(self.root.resolve())
        except ValueError:
            return False
        return True
