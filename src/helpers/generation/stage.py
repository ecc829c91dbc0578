"""Stage 02, generation: the imitations, and the smoke profile's stand-in real works; this module writes
stage 02's products and reads them back for later stages.

Products: per generation setting, ``images/<group>/<slug>/<index>.png`` with ``images/manifest.csv`` and
``images/generation.json`` (in a sweep, under ``images/<setting>/``); for a folder of images made elsewhere
(:mod:`helpers.generation.folder`) the copies, with ``shortfall.csv``, ``unknown_folders.csv`` and
``skipped.csv`` beside the manifest; under ``validation.standin``, ``real_standin/<slug>/<index>.png`` with
``real_standin/manifest.csv``; ``figures/generated_examples.png``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .. import plots, provenance
from ..errors import AuditError
from ..files import read_table, sha256_file, write_table
from ..paths import ImagePaths, RunPaths
from ..schema import Configuration, Params
from .folder import FolderImport, folder_settings, import_folder
from .jobs import MANIFEST_COLUMNS, STANDIN_COLUMNS, Job, plan
from .loop import _generate, _Loader, check_settings, image_text, settings

__all__ = [
    "GenerationResult",
    "imitation_jobs",
    "standin_jobs",
    "run_stage",
    "write_manifest",
    "read_manifest",
    "read_manifests",
    "read_standins",
    "MANIFEST_COLUMNS",
    "STANDIN_COLUMNS",
]


def _checked_texts(jobs: Sequence[Job], root: Path, what: str) -> list[dict[str, str]]:
    texts = [image_text(root / j.path) for j in jobs]
    missing = [j.path for j, t in zip(jobs, texts, strict=True) if t is None]
    if missing:
        raise AuditError(
            f"{len(missing)} {what}(s) are missing or unreadable, e.g. {', '.join(missing[:3])}",
            where=str(root),
            fix="run the generation stage again: it makes only what is missing",
        )
    return texts  # type: ignore[return-value]


def write_manifest(jobs: Sequence[Job], root: Path, images: ImagePaths) -> pd.DataFrame:
    """Write ``images.manifest`` for ``jobs`` (``name, group, template, prompt, index, seed, path, sha256``,
    and ``blacked_out`` when the safety checker ran) atomically, once every image exists. Returns the table."""
    root = Path(root)
    rows = []
    for j, text in zip(jobs, _checked_texts(jobs, root, "image"), strict=True):
        row = {
            "name": j.name,
            "group": j.group,
            "template": j.template,
            "prompt": j.prompt,
            "index": j.index,
            "seed": str(j.seed),
            "path": j.path,
            "sha256": sha256_file(root / j.path),
        }
        if "blacked_out" in text:
            row["blacked_out"] = text["blacked_out"] == "true"
        rows.append(row)
    columns = list(MANIFEST_COLUMNS) + (["blacked_out"] if any("blacked_out" in r for r in rows) else [])
    df = pd.DataFrame(rows, columns=columns)
    write_table(df, images.manifest)
    return df


def _write_standins(jobs: Sequence[Job], root: Path, images: ImagePaths) -> pd.DataFrame:
    _checked_texts(jobs, root, "stand-in image")
    df = pd.DataFrame(
        [
            {
                "artist": j.name,
                "path": j.path,
                "sha256": sha256_file(root / j.path),
                "source": "standin",
                "rank": j.index,
            }
            for j in jobs
        ],
        columns=list(STANDIN_COLUMNS),
    )
    write_table(df, images.manifest)
    return df


@dataclass(frozen=True)
class GenerationResult:
    """What stage 02 produced: each generation setting's manifest (key ``None`` in a run of one), the
    stand-in real works (empty unless ``validation.standin``), and the first configuration's figures."""

    manifests: dict[str | None, pd.DataFrame]
    standins: pd.DataFrame
    figures: dict[str, plots.SavedFigure]
    folders: dict[str | None, FolderImport]

    def folder_notes(self) -> pd.DataFrame:
        """For images made elsewhere: every name short of images, every unknown folder, every skipped file."""
        frames = [
            table.assign(setting=key or "images/", kind=kind)
            for key, found in self.folders.items()
            for kind, table in (
                ("shortfall", found.shortfall),
                ("unknown folder", found.unknown),
                ("skipped file", found.skipped),
            )
            if len(table)
        ]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["setting", "kind"])

    def counts(self) -> pd.DataFrame:
        """Images per generation setting and group (stand-in real works as the group ``standin``)."""
        frames = [m.assign(setting=key or "images/") for key, m in self.manifests.items()]
        if len(self.standins):
            frames.append(self.standins.assign(setting="real_standin/", group="standin"))
        return pd.concat(frames).groupby(["setting", "group"], sort=False).size().rename("images").to_frame()


def _settings_of(params: Params) -> dict[str | None, Configuration]:
    """One configuration per distinct generation setting (the first that uses it), in order."""
    out: dict[str | None, Configuration] = {}
    for config in params.configurations:
        out.setdefault(config.generation_key, config)
    return out


def imitation_jobs(params: Params, config: Configuration, names: dict[str, list[str]]) -> list[Job]:
    """The imitations of ``names`` for ``config``'s generation setting, ``generation.images_per_name`` each."""
    images = params.paths.images(config.generation_key)
    return plan(
        names, template=config.template, seed=config.seed, count=params.generation.images_per_name, path=images.relative
    )


def standin_jobs(params: Params, artists: list[str]) -> list[Job]:
    """The smoke profile's stand-in real works: ``validation.standin_per_artist`` per artist, made with the
    first configuration's setting and seeds disjoint from every imitation's (namespace ``standin``)."""
    first, paths = params.configurations[0], params.paths
    return plan(
        {"real": artists},
        template=first.template,
        seed=first.seed,
        namespace="standin",
        count=params.validation.standin_per_artist,
        path=lambda _g, folder, i: paths.standin_relative(folder, i),
    )


def run_stage(params: Params, names: dict[str, list[str]], *, progress: bool = True) -> GenerationResult:
    """Generate every imitation of ``names`` (stage 01's groups) for every generation setting, and the
    stand-in real works when asked; write the manifests and figures. Under ``accelerate launch`` each process
    makes its shard and rank 0 writes the manifests after all finished."""
    from accelerate import PartialState

    state = PartialState()
    paths, gen = params.paths, params.generation
    device = str(state.device) if gen.device == "auto" else gen.device
    work: list[tuple[Configuration, list[Job], ImagePaths]] = []
    folders: dict[str | None, FolderImport] = {}
    for key, config in _settings_of(params).items():
        if config.generator.external:
            if state.is_main_process:  # copying is quick: one process does it
                check_settings(paths.images(key), folder_settings(config.generator, gen.images_per_name), write=True)
                folders[key] = import_folder(
                    config.generator, names, paths.images(key), paths.root, gen.images_per_name
                )
            continue
        work.append((config, imitation_jobs(params, config, names), paths.images(key)))
    if params.validation.standin:
        work.append((params.configurations[0], standin_jobs(params, names["artists"]), paths.standins))
    if state.is_main_process:
        for config, _, images in work:
            check_settings(images, settings(gen, config, device, world_size=state.num_processes), write=True)
    state.wait_for_everyone()
    for config, jobs, images in work:
        _generate(
            gen,
            config,
            jobs,
            paths.root,
            images,
            _Loader(gen, config, device),
            state.process_index,
            state.num_processes,
            progress,
        )
    state.wait_for_everyone()
    if state.is_main_process:
        for _config, jobs, images in work:
            if images == paths.standins:
                _write_standins(jobs, paths.root, images)
            else:
                write_manifest(jobs, paths.root, images)
    state.wait_for_everyone()
    manifests = read_manifests(params)
    figures = {}
    if state.is_main_process:
        figures = _figures(params, manifests)
    return GenerationResult(manifests, read_standins(paths), figures, folders)


def _figures(params: Params, manifests: dict[str | None, pd.DataFrame]) -> dict[str, plots.SavedFigure]:
    """A grid of imitations per configuration (in its figures folder); returns the first configuration's."""
    out: dict[str, plots.SavedFigure] = {}
    for config in params.configurations:
        fig = plots.image_grid(
            manifests[config.generation_key],
            params.paths.root,
            title=f"{params.run}: generated images",
            weights=provenance.weights(params, config),
        )
        saved = plots.save(fig, params.paths.config(config.name).figure("generated_examples"))
        out.setdefault("generated_examples", saved)
    return out


# -- reading stage 02's products ------------------------------------------------------------------------------


def read_manifest(paths: RunPaths, key: str | None = None) -> pd.DataFrame:
    """One generation setting's manifest (``None``: the run's only one): a row per image."""
    return read_table(paths.images(key).manifest, needs="02_generation", columns=MANIFEST_COLUMNS)


def read_manifests(params: Params) -> dict[str | None, pd.DataFrame]:
    """Every generation setting's manifest, by key."""
    return {key: read_manifest(params.paths, key) for key in _settings_of(params)}


def read_standins(paths: RunPaths) -> pd.DataFrame:
    """The stand-in real works (``artist, path, sha256, source``), or an empty table when none were made."""
    if not paths.standins.manifest.is_file():
        return pd.DataFrame(columns=list(STANDIN_COLUMNS))
    return read_table(paths.standins.manifest, columns=STANDIN_COLUMNS)
