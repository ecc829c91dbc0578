"""The pipeline, declared once: each stage's notebook, the products it reads and writes, and the params it reads.

The runner's order, the run record's requirements and staleness, and the README's stage table (checked by
``tests/test_pipeline_table.py``) all come from :data:`PIPELINE`. A stage needs every stage whose products it
reads to be done; when a stage runs again, or a params key it is the first to read changes, every stage that
reads its products, directly or through another, goes stale.

Products are paths relative to the run folder of a run of one configuration, taken from :mod:`helpers.paths`; a
folder ends in ``/``. In a sweep the products of a ``per_config`` stage are in each ``configs/<config>/`` and
the images of each generation setting in ``images/<setting>/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .paths import RunPaths

__all__ = [
    "Stage",
    "PIPELINE",
    "STAGES",
    "COMPARISON",
    "STEPS",
    "stage",
    "owner",
    "upstream",
    "downstream",
    "first_reader",
]


@dataclass(frozen=True)
class Stage:
    """One step of the pipeline: ``notebooks/<name>.py``, whose work is ``helpers.<module>.run_stage``."""

    name: str
    module: str
    reads: tuple[str, ...]
    """Products of earlier stages that it reads (through their modules' readers)."""
    writes: tuple[str, ...]
    params: tuple[str, ...]
    """The params sections and dotted keys it reads; a change is charged to the first stage that reads it."""
    per_config: bool = True
    frozen: bool = False
    """Its products are names or images: a change of a params key it is the first to read is refused under an
    existing run (two settings would mix in one run folder)."""
    expires: tuple[str, ...] = ()
    """Products that quote other stages' numbers: present only while the stage is done, so no page pairs an old
    copy with fresher tables."""
    sweep_only: bool = False
    """Run only for a run of several configurations."""


def _rel(*paths: Path) -> tuple[str, ...]:
    return tuple(p.as_posix() + ("/" if not p.suffix else "") for p in paths)


_RUN = RunPaths(Path())


def _tables(*names: str) -> tuple[str, ...]:
    return _rel(*(_RUN.table(n) for n in names))


_NAMES = _rel(_RUN.artists_csv, _RUN.random_names_csv)
_EMBEDDINGS = _rel(_RUN.embeddings)
_COMPARED = _tables("comparison.csv", "paired_differences.csv", "seed_spread.csv")
_VALIDATION = (
    "real_works_dir",
    "min_works",
    "max_works",
    "skip_bad_files",
    "standin",
    "credit_forms",
    "style_forms",
    "duplicate_distance",
)
"""The keys of ``validation`` that decide which real works stage 01 finds."""

PIPELINE = (
    Stage(
        "01_selection",
        "selection",
        reads=(),
        writes=(
            *_NAMES,
            *_rel(
                _RUN.real_manifest,
                _RUN.selection_csv,
                _RUN.real_excluded_csv,
                _RUN.real_skipped_csv,
                _RUN.real_duplicates_csv,
                _RUN.real_captions_csv,
            ),
        ),
        params=("run", "seed", "artists", "selection", "random_names", *(f"validation.{k}" for k in _VALIDATION)),
        per_config=False,
        frozen=True,
    ),
    Stage(
        "02_generation",
        "generation",
        reads=_NAMES,
        writes=_rel(_RUN.images().root, _RUN.standins.root),
        params=("generation", "validation.standin_per_artist"),
        per_config=False,
        frozen=True,
    ),
    Stage(
        "03_encoding",
        "encoding",
        reads=(*_NAMES, *_rel(_RUN.real_manifest, _RUN.images().root, _RUN.standins.root)),
        writes=_EMBEDDINGS,
        params=("encoding", "classification.label_templates"),
    ),
    Stage(
        "04_classification",
        "classification",
        reads=(*_EMBEDDINGS, *_rel(_RUN.artists_csv)),
        writes=_tables(
            "predictions.csv",
            "accuracy.csv",
            "confusion_artists.csv",
            "sample_size.csv",
            "ceiling.csv",
            "reference_works.csv",
            "classification.json",
        ),
        params=("classification",),
    ),
    Stage(
        "05_validation",
        "validation",
        reads=(*_EMBEDDINGS, *_rel(_RUN.real_manifest, _RUN.real_excluded_csv), *_tables("classification.json")),
        writes=(
            *_tables(
                "validation.csv",
                "validation_centered.csv",
                "own_other.csv",
                "validation_excluded.csv",
                "negative_controls.csv",
                "negative_control_pvalues.csv",
                "validation.json",
            ),
            *_rel(_RUN.summary_json),
        ),
        params=("validation",),
        expires=_rel(_RUN.summary_json),
    ),
    Stage(
        "06_comparison",
        "comparison",
        reads=(*_rel(_RUN.summary_json), *_tables("predictions.csv", "accuracy.csv", "ceiling.csv", "validation.csv")),
        writes=_COMPARED,
        params=("classification.bootstrap", "classification.confidence"),
        per_config=False,
        expires=_COMPARED,
        sweep_only=True,
    ),
)
"""The stages in the order they run; the summary (05) quotes stage 04's headline, so it reads it."""

STEPS = tuple(s.name for s in PIPELINE)
STAGES = tuple(s.name for s in PIPELINE if not s.sweep_only)
"""The five stages every run has."""
COMPARISON = next(s.name for s in PIPELINE if s.sweep_only)
"""The step after the five stages in a run of several configurations: the configurations compared."""
_BY_NAME = {s.name: s for s in PIPELINE}


def stage(name: str) -> Stage:
    """The stage called ``name``."""
    return _BY_NAME[name]


def owner(product: str) -> str:
    """The stage that writes ``product``."""
    return next(s.name for s in PIPELINE if product in s.writes)


def upstream(name: str) -> tuple[str, ...]:
    """The stages whose products stage ``name`` reads, in pipeline order."""
    found = {owner(p) for p in stage(name).reads}
    return tuple(s for s in STEPS if s in found)


def downstream(name: str) -> tuple[str, ...]:
    """Every stage that reads the products of stage ``name``, directly or through another, in pipeline order."""
    found = {name}
    for s in STEPS[STEPS.index(name) + 1 :]:
        if found & set(upstream(s)):
            found.add(s)
    return tuple(s for s in STEPS if s in found and s != name)


def first_reader(key: str) -> str | None:
    """The first stage that reads the dotted params ``key`` (``None``: no stage reads it, e.g. ``description``)."""
    parts = key.split(".")
    prefixes = {".".join(parts[:n]) for n in range(1, len(parts) + 1)}
    return next((s.name for s in PIPELINE if prefixes & set(s.params)), None)


def _check() -> None:
    for i, s in enumerate(PIPELINE):
        earlier = {p for t in PIPELINE[:i] for p in t.writes}
        assert set(s.reads) <= earlier, f"{s.name} reads {set(s.reads) - earlier}, which no earlier stage writes"
        assert set(s.expires) <= set(s.writes), s.name


_check()
