"""Stage 01, selection: which artists a run measures, the random-names baseline, and the artists' real works.

The paper (Casper et al. 2023) kept living professional digital artists with an online presence whose
names appear in more than 100 LAION-aesthetics captions, then compared imitations with real works.
Counting mentions is :mod:`helpers.metadata` (with the matching rule of :mod:`helpers.captions`); this
module applies the criteria, draws the baseline names, scans the real-works folder, and owns the products
of stage 01 — it writes them and reads them back for later stages:

- ``tables/selection.csv`` (every candidate with the reason for each exclusion), ``artists.csv``
  (the selected artists), ``random_names.csv`` (the baseline);
- ``real_works.csv`` (the checked real works with their origin; empty when the smoke profile's stand-ins are
  used, which stage 02 makes), ``tables/real_works_excluded.csv``, ``tables/real_works_skipped.csv``,
  ``tables/real_works_duplicates.csv`` (works dropped as another artist's too) and, for works sampled from
  the metadata, ``tables/real_works_captions.csv`` (captions the sampler dropped, per artist and reason).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from . import plots
from .errors import AuditError, exit_on_error
from .files import Columns, read_table, sha256_bytes, sha256_file, write_table
from .metadata import count_mentions
from .names import clean_name, name_folder, name_key, random_names, slug, validate_names
from .paper import PAPER_RULE
from .paths import RunPaths, resolve_path
from .synthetic import make_synthetic_metadata
from .works import (
    DUPLICATE_COLUMNS,
    cross_artist_duplicates,
    downloaded,
    folder_origin,
    perceptual_hash,
    read_caption_drops,
)

if TYPE_CHECKING:  # the command line starts without the schema (pydantic): stages import it
    from .schema import Params

__all__ = [
    "read_candidates",
    "select",
    "scan_real_works",
    "check_inputs",
    "SelectionResult",
    "run_stage",
    "read_artists",
    "read_names",
    "read_real_works",
    "read_excluded",
    "GROUPS",
    "REAL_WORKS_COLUMNS",
    "main",
]

GROUPS = ("artists", "random_names")
"""The two groups of names a run generates for: the selected artists and the random-names baseline."""
REAL_WORKS_COLUMNS = Columns(
    artist="text",
    path="text",
    sha256="text",
    source="text",
    rank="int",
    origin="text",
    phash="text",
    url="text",
    caption="text",
    form="text",
)
ARTIST_COLUMNS = Columns(artist="text", slug="text", caption_count="int?")
"""``artists.csv``: the selected artists; the count is empty when not verified (no caption metadata)."""
RANDOM_NAME_COLUMNS = Columns(name="text")
_EXCLUDED_COLUMNS = Columns(artist="text", n_found="int", reason="text")
_SKIPPED_COLUMNS = ("artist", "path", "problem")

_TRUE, _FALSE = {"true", "yes", "1"}, {"false", "no", "0"}
_CURATION = ("alive", "online_presence")

# -- candidates and criteria ------------------------------------------------------------------------------


def read_candidates(path: str | os.PathLike) -> pd.DataFrame:
    """The candidate artists of a CSV: column ``artist`` (required) and the curation columns ``alive`` and
    ``online_presence`` (optional), other columns kept as they are.

    Curation cells read true/false/yes/no/1/0 (any case); an empty cell or a missing column is ``<NA>``,
    meaning "not curated". Names are cleaned and checked with :func:`helpers.names.validate_names`.
    """
    path = Path(path)
    where = str(path)
    if not path.is_file():
        raise AuditError("candidate artists file does not exist", where=where, fix="pass a CSV with an 'artist' column")
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise AuditError(
            "the file is empty",
            where=where,
            fix="write a header line 'artist,alive,online_presence' and one row per artist",
        ) from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise AuditError(
            f"cannot read it as UTF-8 CSV ({' '.join(str(exc).split())})",
            where=where,
            fix="save it as UTF-8 CSV",
        ) from None
    table.columns = [str(c).strip() for c in table.columns]
    rename = {c: c.lower() for c in table.columns if c.lower() in ("artist", *_CURATION)}
    table = table.rename(columns=rename)
    if "artist" not in table.columns:
        raise AuditError(
            f"no 'artist' column; the columns are {list(table.columns)}",
            where=where,
            fix="name the column of artist names 'artist'",
        )
    table["artist"] = validate_names(table["artist"].tolist(), where=where)
    for col in _CURATION:
        if col not in table.columns:
            table[col] = pd.array([pd.NA] * len(table), dtype="boolean")
            continue
        values = []
        for row, raw in enumerate(table[col].tolist(), start=1):
            text = str(raw).strip().lower()
            if text in _TRUE or text in _FALSE:
                values.append(text in _TRUE)
            elif text == "":
                values.append(pd.NA)
            else:
                raise AuditError(
                    f"column {col!r}, row {row}: {raw!r} is not true/false/yes/no/1/0",
                    where=where,
                    fix="write true or false, or leave the cell empty when not curated",
                )
        table[col] = pd.array(values, dtype="boolean")
    front = ["artist", *_CURATION]
    return table[front + [c for c in table.columns if c not in front]].reset_index(drop=True)


def select(
    candidates: pd.DataFrame,
    counts: pd.DataFrame | None,
    *,
    min_images: int = PAPER_RULE,
    require_alive: bool = True,
    require_online_presence: bool = True,
) -> pd.DataFrame:
    """The selection table: one row per candidate, in candidate order, with columns ``artist``,
    ``caption_count``, ``alive``, ``online_presence``, ``selected``, ``reason``, ``count_verified`` (then any
    other candidate columns).

    ``selected``: ``caption_count > min_images`` (strictly more, as the paper), and ``alive`` /
    ``online_presence`` true where required (``<NA>``, not curated, does not pass). ``reason`` lists every
    failed criterion, "; "-separated, and is "" for a selected artist. With ``counts=None`` (no metadata)
    the count criterion is skipped, ``caption_count`` is ``<NA>``, ``count_verified`` is false and every
    reason notes "count not verified".
    """
    if not isinstance(min_images, (int, np.integer)) or isinstance(min_images, bool) or min_images < 0:
        raise AuditError(f"min_images must be a whole number >= 0 (got {min_images!r})", where="select")
    if "artist" not in candidates.columns:
        raise AuditError(f"candidates have no 'artist' column (columns: {list(candidates.columns)})", where="select")
    table = candidates.copy().reset_index(drop=True)
    table["artist"] = validate_names(table["artist"].tolist(), where="candidates")
    for col in _CURATION:
        table[col] = (
            table[col].astype("boolean") if col in table.columns else pd.array([pd.NA] * len(table), dtype="boolean")
        )
    keys = [name_key(a) for a in table["artist"]]
    if counts is None:
        caption_count = pd.array([pd.NA] * len(table), dtype="Int64")
    else:
        missing = [c for c in ("artist", "caption_count") if c not in counts.columns]
        if missing:
            raise AuditError(
                f"counts lack the column(s) {missing}",
                where="select",
                fix="pass the table count_mentions returns",
            )
        by_key = {
            name_key(clean_name(a)): int(c) for a, c in zip(counts["artist"], counts["caption_count"], strict=True)
        }
        absent = [a for a, k in zip(table["artist"], keys, strict=True) if k not in by_key]
        if absent:
            raise AuditError(
                f"counts have no row for {len(absent)} candidate(s), e.g. {absent[0]!r}",
                where="select",
                fix="count mentions for the same artist list",
            )
        caption_count = pd.array([by_key[k] for k in keys], dtype="Int64")
    counted = None if counts is None else caption_count.to_numpy(dtype=np.int64)
    curation = [
        (table[col].tolist(), no, unknown)
        for col, required, no, unknown in (
            ("alive", require_alive, "not alive", "alive not curated"),
            ("online_presence", require_online_presence, "no online presence", "online presence not curated"),
        )
        if required
    ]
    selected, reasons = [], []
    for i in range(len(table)):
        why = []
        if counted is not None and not counted[i] > min_images:
            n = int(counted[i])
            why.append(f"only {n} caption{'' if n == 1 else 's'} (needs > {min_images})")
        for values, no, unknown in curation:
            if values[i] is pd.NA:
                why.append(unknown)
            elif not values[i]:
                why.append(no)
        selected.append(not why)
        if counts is None:
            why.append("count not verified")
        reasons.append("; ".join(why))
    table["caption_count"] = caption_count
    table["selected"] = np.array(selected, dtype=bool)
    table["reason"] = reasons
    table["count_verified"] = counts is not None
    front = ["artist", "caption_count", "alive", "online_presence", "selected", "reason", "count_verified"]
    return table[front + [c for c in table.columns if c not in front]]


# -- real works -------------------------------------------------------------------------------------------


def scan_real_works(
    root: Path,
    artists: list[str],
    *,
    min_works: int = 1,
    max_works: int = 20,
    seed: int = 0,
    skip_bad_files: bool = False,
    duplicate_distance: int | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Find and check each artist's real works in ``root`` (one subfolder per artist, named as the artist in
    any Unicode normal form, or as :func:`helpers.names.slug` of the name — the layout the downloader writes).

    Returns ``(works, excluded, skipped, duplicates)``: ``works`` has :data:`REAL_WORKS_COLUMNS`: each artist's
    usable works in a seeded random order (``rank`` 0, 1, …; seeded by ``seed`` and the artist), at most
    ``max_works`` of them — so the works of rank below k are a seeded sample of k for any k — with each
    work's ``origin``, and for a downloaded one its ``url``, ``caption`` and credit ``form``
    (:mod:`helpers.works`); ``excluded`` has ``artist, n_found, reason`` for artists with fewer than
    ``min_works`` usable works; ``skipped`` lists bad files (``artist, path, problem``), which stop the scan
    unless ``skip_bad_files``; ``duplicates`` lists the works dropped as another artist's too, exactly or
    within ``duplicate_distance`` pHash bits (default: ``validation.duplicate_distance``'s), with
    :data:`helpers.works.DUPLICATE_COLUMNS`.
    """
    root = Path(root)
    if not root.is_dir():
        raise AuditError(
            f"real-works folder {root} does not exist",
            where="validation.real_works_dir",
            fix="create it with one subfolder per artist (see README, 'Real works'), or download them with "
            "helpers.download.download_real_works",
        )
    if duplicate_distance is None:
        from .schema import ValidationParams

        duplicate_distance = ValidationParams().duplicate_distance
    found, folders, skipped = [], {}, []
    for artist in artists:
        folders[artist] = folder = name_folder(root, artist, "real-works")
        found += [(artist, path) for path in _usable(folder, artist, skip_bad_files, skipped)]
    paths = [str(p.resolve()) for _, p in found]
    digests = [sha256_file(p) for _, p in found]
    phashes = [perceptual_hash(p) for _, p in found]
    duplicates = cross_artist_duplicates([a for a, _ in found], paths, digests, phashes, distance=duplicate_distance)
    dropped = set(duplicates["path"])
    origin, fetched = folder_origin(root), downloaded(root)
    kept, excluded = [], []
    for artist in artists:
        mine = [i for i, (a, _) in enumerate(found) if a == artist and paths[i] not in dropped]
        if len(mine) < min_works:
            n_dup = sum(a == artist for a in duplicates["artist"])
            reason = "no folder" if folders[artist] is None else f"{len(mine)} usable real works (needs {min_works})"
            excluded.append(
                {
                    "artist": artist,
                    "n_found": len(mine),
                    "reason": reason + (f"; {n_dup} dropped as another artist's too" if n_dup else ""),
                }
            )
            continue
        rng = np.random.default_rng([seed, int(sha256_bytes(artist.encode())[:8], 16)])
        for rank, j in enumerate(rng.permutation(len(mine))[:max_works].tolist()):
            i = mine[j]
            path = found[i][1]
            meta = fetched.get(f"{path.parent.name}/{path.name}")
            kept.append(
                {
                    "artist": artist,
                    "path": paths[i],
                    "sha256": digests[i],
                    "source": "real",
                    "rank": rank,
                    "origin": "metadata" if meta else origin,
                    "phash": phashes[i],
                    **(meta or {"url": "", "caption": "", "form": ""}),
                }
            )
    return (
        pd.DataFrame(kept, columns=list(REAL_WORKS_COLUMNS)),
        pd.DataFrame(excluded, columns=list(_EXCLUDED_COLUMNS)),
        pd.DataFrame(skipped, columns=list(_SKIPPED_COLUMNS)),
        duplicates,
    )


def _usable(folder: Path | None, artist: str, skip_bad_files: bool, skipped: list[dict]) -> list[Path]:
    """The good image files of an artist's folder, in name order; bad ones stop the scan or go to ``skipped``."""
    from .imagefiles import check_image  # PIL: only where real works are scanned

    good: list[Path] = []
    for path in sorted(folder.iterdir()) if folder else []:
        if path.name.startswith(".") or (path.is_dir() and not path.is_symlink()):
            continue
        problem = check_image(path, folder=folder)
        if problem is None:
            good.append(path)
            continue
        if not skip_bad_files:
            raise AuditError(
                f"real work {path} {problem}",
                where=f"validation.real_works_dir, artist {artist!r}",
                fix="remove or replace the file, or set validation.skip_bad_files: true to skip and list such files",
            )
        skipped.append({"artist": artist, "path": str(path), "problem": problem})
    return good


# -- stage 01 -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SelectionResult:
    """What stage 01 produced: the selection table, the chosen artists, the baseline names, the real works
    found and the artists excluded from validation for lack of them; ``note`` says where counts came from
    when they are not real caption metadata; ``figures``: the caption counts per candidate; ``duplicates``:
    the works dropped as another artist's too; ``caption_drops``: for works sampled from the metadata, the
    captions the sampler dropped per artist and reason (``None`` when the folder has no such record)."""

    table: pd.DataFrame
    artists: list[str]
    random_names: pd.DataFrame
    real_works: pd.DataFrame
    excluded_validation: pd.DataFrame
    note: str | None
    figures: dict[str, plots.SavedFigure]
    duplicates: pd.DataFrame
    caption_drops: pd.DataFrame | None


def check_inputs(params: Params) -> pd.DataFrame:
    """Read and check the candidate artists of ``params`` (every row): the runner calls this before any
    model loads, so a bad list stops a run in seconds."""
    return read_candidates(resolve_path(params.artists.file))


def run_stage(params: Params) -> SelectionResult:
    """Count, select, draw the random names and find the real works; write stage 01's products and figure."""
    paths, criteria = params.paths, params.selection
    candidates = check_inputs(params)
    names = candidates["artist"].tolist()
    note, metadata = None, None
    if criteria.synthetic:
        metadata = paths.synthetic_metadata
        make_synthetic_metadata(metadata, names, seed=params.seed)
        note = "synthetic caption metadata with planted counts (smoke profile)"
    elif criteria.metadata is not None:
        metadata = resolve_path(criteria.metadata)
    else:
        note = "no caption metadata: counts not verified"
    counts = None
    if metadata is not None:
        counts = count_mentions(
            str(metadata),
            names,
            caption_column=criteria.caption_column,
            score_column=criteria.score_column,
            min_score=criteria.min_score,
        )
    table = select(
        candidates,
        counts,
        min_images=criteria.min_images,
        require_alive=criteria.require_alive,
        require_online_presence=criteria.require_online_presence,
    )
    chosen = table[table["selected"]]
    if params.artists.limit is not None:
        chosen = chosen.head(params.artists.limit)
    if chosen.empty:
        raise AuditError(
            f"no candidate of {len(table)} meets the selection criteria",
            where=str(params.artists.file),
            fix="lower selection.min_images, check the curation columns, or point selection.metadata at more captions",
        )
    artists = chosen["artist"].tolist()
    write_table(table, paths.selection_csv)
    write_table(
        pd.DataFrame(
            {"artist": artists, "slug": [slug(a) for a in artists], "caption_count": chosen["caption_count"].tolist()}
        ),
        paths.artists_csv,
    )
    baseline_names = random_names(
        params.random_names.count or len(artists),
        seed=params.random_names.seed,
        locales=params.random_names.locales,
        exclude=names,
    )
    baseline = pd.DataFrame({"name": baseline_names, "slug": [slug(n) for n in baseline_names]})
    write_table(baseline, paths.random_names_csv)
    works, excluded, duplicates, drops = _real_works(params, artists)
    from . import provenance  # the model inventory: not needed to count and select (the command line)

    fig = plots.selection_counts(
        table,
        min_images=criteria.min_images,
        title=f"{params.run}: caption mentions per candidate",
        weights=provenance.weights(params),
        note=note,
    )
    figures = {"selection_counts": plots.save(fig, paths.figure("selection_counts"))}
    return SelectionResult(table, artists, baseline, works, excluded, note, figures, duplicates, drops)


def _real_works(
    params: Params, artists: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    """Scan the real-works folder and write ``real_works.csv`` with the excluded, skipped and duplicates
    tables, and the sampler's caption drops when the folder records them. Under ``validation.standin`` nothing
    is scanned: stage 02 makes stand-ins, and ``real_works.csv`` is empty."""
    validation, paths = params.validation, params.paths
    if validation.standin:
        works = pd.DataFrame(columns=list(REAL_WORKS_COLUMNS))
        write_table(works, paths.real_manifest)
        return works, pd.DataFrame(columns=list(_EXCLUDED_COLUMNS)), pd.DataFrame(columns=list(DUPLICATE_COLUMNS)), None
    root = resolve_path(validation.real_works_dir)
    works, excluded, skipped, duplicates = scan_real_works(
        root,
        artists,
        min_works=validation.min_works,
        max_works=max(validation.works_values),
        seed=params.seed,
        skip_bad_files=validation.skip_bad_files,
        duplicate_distance=validation.duplicate_distance,
    )
    write_table(works, paths.real_manifest)
    write_table(excluded, paths.real_excluded_csv)
    write_table(skipped, paths.real_skipped_csv)
    write_table(duplicates, paths.real_duplicates_csv)
    drops = read_caption_drops(root)
    if drops is not None:
        drops = drops[drops["artist"].isin(artists)].reset_index(drop=True)
        write_table(drops, paths.real_captions_csv)
    return works, excluded, duplicates, drops


# -- reading stage 01's products ------------------------------------------------------------------------------


def read_artists(paths: RunPaths) -> pd.DataFrame:
    """The selected artists: ``artist, slug, caption_count`` (the count is empty when not verified)."""
    return read_table(paths.artists_csv, needs="01_selection", columns=ARTIST_COLUMNS)


def read_names(paths: RunPaths) -> dict[str, list[str]]:
    """The names a run measures, by group: ``artists`` (selected) and ``random_names`` (the baseline)."""
    randoms = read_table(paths.random_names_csv, needs="01_selection", columns=RANDOM_NAME_COLUMNS)
    return {"artists": read_artists(paths)["artist"].tolist(), "random_names": randoms["name"].tolist()}


def read_real_works(paths: RunPaths) -> pd.DataFrame:
    """The checked real works: :data:`REAL_WORKS_COLUMNS` (``path`` absolute or run-relative; ``rank``, an
    integer, orders each artist's works: validation with k works per artist takes rank < k; ``origin`` one of
    :data:`helpers.works.ORIGINS`; ``url, caption, form`` empty unless sampled from the metadata)."""
    return read_table(paths.real_manifest, needs="01_selection", columns=REAL_WORKS_COLUMNS)


def read_excluded(paths: RunPaths) -> pd.DataFrame:
    """Artists with too few usable real works (``artist, n_found, reason``); empty when none were scanned."""
    if not paths.real_excluded_csv.is_file():
        return pd.DataFrame(columns=list(_EXCLUDED_COLUMNS))
    return read_table(paths.real_excluded_csv, columns=_EXCLUDED_COLUMNS)


# -- command line ---------------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m helpers.selection",
        description="Count caption mentions of candidate artists in parquet metadata and select artists.",
    )
    p.add_argument("--metadata", help="parquet file, folder or glob of caption metadata (omit: counts not verified)")
    p.add_argument("--artists", required=True, help="CSV of candidates: artist[,alive,online_presence]")
    p.add_argument("--out", required=True, help="selection CSV to write")
    p.add_argument(
        "--min-images",
        type=int,
        default=PAPER_RULE,
        help=f"selected when strictly more captions (default {PAPER_RULE})",
    )
    p.add_argument("--caption-column", default="TEXT")
    p.add_argument("--score-column")
    p.add_argument("--min-score", type=float)
    p.add_argument("--workers", type=int, help="row groups scanned at once (default: every core)")
    p.add_argument("--threads", type=int, help="DuckDB threads per worker (default 1)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return p


@exit_on_error
def main(argv: Sequence[str] | None = None) -> None:
    """Command line: ``python -m helpers.selection --metadata GLOB --artists CSV --out CSV``."""
    args = _parser().parse_args(argv)
    candidates = read_candidates(args.artists)
    counts = None
    if args.metadata is not None:
        counts = count_mentions(
            args.metadata,
            candidates["artist"],
            caption_column=args.caption_column,
            score_column=args.score_column,
            min_score=args.min_score,
            threads=args.threads,
            workers=args.workers,
            progress=not args.no_progress,
        )
    table = select(candidates, counts, min_images=args.min_images)
    write_table(table, Path(args.out))
    print(f"{int(table['selected'].sum())} of {len(table)} candidates selected -> {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
