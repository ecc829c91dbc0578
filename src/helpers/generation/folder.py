"""Images made elsewhere — by a closed or external model — as a generator (``source: folder``).

Layout of ``path``::

    <path>/artists/<artist name or slug>/<any>.png|jpg|jpeg|webp
    <path>/random_names/<name or slug>/<any>.png|…        (the baseline; optional)
    <path>/prompts.csv                                     (optional: group, name, file, prompt, model, date)

Every file is checked like a real work (:func:`helpers.imagefiles.check_image`: corrupt, empty, truncated,
decompression bombs, links leading outside the folder): a bad file stops the run naming it, unless the
generator sets ``skip_bad_files`` (then it is skipped and listed). The first ``images_per_name`` good files
of each name, in file-name order, are **copied** into the run (``images/…/<group>/<slug>/<index><ext>``) with
their SHA-256: the run then holds exactly the images it measured, whatever later happens to the folder,
and a folder whose content changed under an existing run is refused (its identity is in ``generation.json``).

An artist without a folder is an error naming the artist. A name with fewer images than ``images_per_name``
(a random name with none) is refused, or measured with what exists under ``on_shortfall: measure``; either
way it is listed. A random-names folder that is absent leaves the baseline missing, with the reason. A
folder for a name the run does not know is listed, never silently ignored. Seeds are unknown.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..errors import AuditError
from ..files import atomic_write_bytes, folder_identity, read_table, sha256_file, write_table
from ..imagefiles import GENERATED_SUFFIXES, check_image
from ..names import clean_name, name_folder, slug
from ..paths import ImagePaths, resolve_path
from ..schema import GeneratorSpec
from .jobs import MANIFEST_COLUMNS

__all__ = ["FOLDER_SUFFIXES", "FolderImport", "folder_settings", "import_folder"]

FOLDER_SUFFIXES = GENERATED_SUFFIXES
SHORTFALL_COLUMNS = ("group", "name", "found", "used", "wanted", "reason")
UNKNOWN_COLUMNS = ("group", "folder")
SKIPPED_COLUMNS = ("group", "name", "path", "problem")
_PROMPT_COLUMNS = ("group", "name", "file", "prompt", "model", "date")


@dataclass(frozen=True)
class FolderImport:
    """What a folder generator gave: the manifest of the copied images, the names short of images, the
    folders of names the run does not know, the bad files skipped, and why the baseline is missing (if it is)."""

    manifest: pd.DataFrame
    shortfall: pd.DataFrame
    unknown: pd.DataFrame
    skipped: pd.DataFrame
    baseline_missing: str | None


def folder_settings(spec: GeneratorSpec, images_per_name: int) -> dict:
    """What decides a folder generator's images: the folder's content and how it is read."""
    root = resolve_path(spec.path)
    return {
        "generator": {"source": "folder", "path": str(root), "files": folder_identity(root)},
        "images_per_name": images_per_name,
        "on_shortfall": spec.on_shortfall,
        "skip_bad_files": spec.skip_bad_files,
    }


def _prompts(root: Path) -> pd.DataFrame:
    path = root / "prompts.csv"
    if not path.is_file():
        return pd.DataFrame(columns=list(_PROMPT_COLUMNS))
    table = read_table(path, columns=_PROMPT_COLUMNS)
    table["name"] = [clean_name(n, where=str(path)) for n in table["name"]]
    return table


def _good_files(folder: Path, group: str, name: str, spec: GeneratorSpec, skipped: list) -> list[Path]:
    good = []
    for path in sorted(p for p in folder.iterdir() if not p.name.startswith(".")):
        if path.is_dir() and not path.is_symlink():
            continue
        problem = check_image(path, folder=folder, suffixes=FOLDER_SUFFIXES)
        if problem is None:
            good.append(path)
        elif spec.skip_bad_files:
            skipped.append((group, name, str(path), problem))
        else:
            raise AuditError(
                f"image {path} {problem}",
                where=f"generation.generators[{spec.name}].path",
                fix="remove or replace the file, or set skip_bad_files: true on this generator",
            )
    return good


def import_folder(
    spec: GeneratorSpec, names: dict[str, list[str]], images: ImagePaths, run_root: Path, count: int
) -> FolderImport:
    """Check the folder of ``spec``, copy the first ``count`` images of every name of ``names`` (group →
    names) into ``images``, and return what was imported (see the module docstring). Copies already in
    place with the right bytes are kept."""
    root = resolve_path(spec.path)
    prompts = _prompts(root).set_index(["group", "name", "file"])
    rows, shortfall, skipped, unknown = [], [], [], []
    baseline_missing = None
    for group, members in names.items():
        group_root = root / group
        if not group_root.is_dir():
            if group == "artists":
                raise AuditError(
                    f"{root} has no artists/ folder",
                    where=f"generator {spec.name}",
                    fix="lay the images out as <path>/artists/<artist name or slug>/<image>",
                )
            baseline_missing = f"the folder generator {spec.name} has no {group}/ folder: no baseline images"
            continue
        known = set()
        for name in members:
            folder = name_folder(group_root, name)
            if folder is None and group == "artists":
                raise AuditError(
                    f"no image folder for artist {name!r} (looked for '{name}' and '{slug(name)}')",
                    where=str(group_root),
                    fix="add the artist's images, or leave the artist out of the run",
                )
            good = _good_files(folder, group, name, spec, skipped) if folder else []
            known.add(folder.name if folder else None)
            used = good[:count]
            if len(used) < count:
                shortfall.append(
                    (group, name, len(good), len(used), count, "no folder" if folder is None else "too few images")
                )
            for index, path in enumerate(used):
                rel = f"{images.prefix}/{group}/{slug(name)}/{index:03d}{path.suffix.lower()}"
                target = run_root / rel
                if not (target.is_file() and sha256_file(target) == sha256_file(path)):
                    atomic_write_bytes(target, path.read_bytes(), fixed_temp=True)
                meta = prompts.loc[(group, name, path.name)] if (group, name, path.name) in prompts.index else None
                rows.append(
                    {
                        "name": name,
                        "group": group,
                        "template": "",
                        "prompt": "" if meta is None else meta["prompt"],
                        "index": index,
                        "seed": "",
                        "path": rel,
                        "sha256": sha256_file(target),
                        "source_file": str(path),
                        "model": "" if meta is None else meta["model"],
                        "date": "" if meta is None else meta["date"],
                    }
                )
        unknown += [(group, p.name) for p in sorted(group_root.iterdir()) if p.is_dir() and p.name not in known]
        if group != "artists" and not any(r["group"] == group for r in rows):
            baseline_missing = f"the folder generator {spec.name} has no usable image of any name in {group}/"
    unknown += [(p.name, p.name) for p in sorted(root.iterdir()) if p.is_dir() and p.name not in names]
    shortfall_table = pd.DataFrame(shortfall, columns=list(SHORTFALL_COLUMNS))
    if len(shortfall_table) and spec.on_shortfall == "refuse":
        first = shortfall_table.iloc[0]
        raise AuditError(
            f"{len(shortfall_table)} name(s) have fewer than {count} images in {root}, e.g. {first['group']}/{first['name']!r} "
            f"({first['found']} found)",
            where=f"generator {spec.name}",
            fix="add images, lower generation.images_per_name, or set on_shortfall: measure on this generator",
        )
    manifest = pd.DataFrame(rows, columns=[*MANIFEST_COLUMNS, "source_file", "model", "date"])
    result = FolderImport(
        manifest,
        shortfall_table,
        pd.DataFrame(unknown, columns=list(UNKNOWN_COLUMNS)),
        pd.DataFrame(skipped, columns=list(SKIPPED_COLUMNS)),
        baseline_missing,
    )
    write_table(result.manifest, images.manifest)
    for name, table in (
        ("shortfall", result.shortfall),
        ("unknown_folders", result.unknown),
        ("skipped", result.skipped),
    ):
        write_table(table, images.root / f"{name}.csv")
    return result
