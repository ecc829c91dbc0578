"""Downloading real works: img2dataset fetches image URLs (e.g. from :func:`helpers.metadata.sample_real_work_urls`)
into the folder layout stage 01 scans (``<slug>/<NNNNNN>.jpg``), with the manifest that tells stage 01 which
files were sampled from the metadata (their URL, caption and credit form: :mod:`helpers.works`). For users;
no stage calls it."""

from __future__ import annotations

import os
import re
import shutil
import signal
import tempfile
import threading
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .errors import AuditError
from .files import sha256_file, write_table
from .names import clean_name, slug
from .schema import ValidationParams
from .works import CAPTION_DROPS, DOWNLOAD_MANIFEST, cross_artist_duplicates, perceptual_hash

__all__ = ["download_real_works"]


_MANIFEST = DOWNLOAD_MANIFEST
_COLUMNS = ["artist", "url", "file", "caption", "form"]
DUPLICATES = "duplicates.csv"
_FILE = re.compile(r"^(\d{6})\.jpg$")


def download_real_works(
    urls: pd.DataFrame,
    out_dir: str | os.PathLike,
    *,
    image_size: int = 512,
    processes: int = 1,
    threads: int = 8,
    timeout: int = 10,
    dropped: pd.DataFrame | None = None,
    duplicate_distance: int | None = None,
) -> pd.DataFrame:
    """Download real works with img2dataset into ``out_dir/<slug(artist)>/<NNNNNN>.jpg``.

    ``urls`` has columns ``artist`` and ``url``, and optionally ``caption`` and ``form`` (as the ``works`` of
    :func:`sample_real_work_urls`' result). Images are re-encoded as JPEG, the shorter side resized down to
    ``image_size`` (never up). ``out_dir/manifest.csv`` records which file each URL got, with its caption and
    credit form, so a later call skips URLs whose file is present and retries the others, and stage 01 knows
    these works came from the metadata. ``dropped`` (the sample's caption drops) is written beside it
    (``caption_drops.csv``) for stage 01 to report. The downloaded works that are another artist's too (equal
    SHA-256, or pHash within ``duplicate_distance`` bits; default ``validation.duplicate_distance``'s) are
    listed in ``out_dir/duplicates.csv``; stage 01 drops them. Hosts that forbid AI use (``X-Robots-Tag:
    noai`` and kin) are respected: those URLs fail.

    Returns one row per artist: ``requested`` (distinct URLs), ``already_present``, ``downloaded`` (new
    this call), ``failed``, ``errors`` (the failure messages with their counts) and ``duplicates`` (its works
    that are another artist's too). Failures are never fatal.
    """
    for col in ("artist", "url"):
        if col not in urls.columns:
            raise AuditError(
                f"the URL table has no {col!r} column (columns: {list(urls.columns)})",
                where="download_real_works",
            )
    for key, value in (
        ("image_size", image_size),
        ("processes", processes),
        ("threads", threads),
        ("timeout", timeout),
    ):
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise AuditError(f"{key} must be a whole number >= 1 (got {value!r})", where="download_real_works")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    wanted = urls[["artist", "url"]].dropna().astype(str)
    wanted = wanted.assign(artist=[clean_name(a, where="download_real_works") for a in wanted["artist"]])
    captions, forms = (
        [str(x) for x in urls.loc[wanted.index, col].fillna("")] if col in urls.columns else [""] * len(wanted)
        for col in ("caption", "form")
    )
    notes = dict(zip(zip(wanted["artist"], wanted["url"], strict=True), zip(captions, forms, strict=True), strict=True))
    wanted = wanted.drop_duplicates().reset_index(drop=True)
    manifest = _read_manifest(out_dir)
    files = dict(zip(zip(manifest["artist"], manifest["url"], strict=True), manifest["file"], strict=True))
    next_number: dict[str, int] = {}
    todo, present = [], set()
    new_rows = []
    for artist, url in zip(wanted["artist"], wanted["url"], strict=True):
        rel = files.get((artist, url))
        if rel is None:
            folder = slug(artist)
            if folder not in next_number:
                next_number[folder] = _next_number(out_dir / folder, manifest, folder)
            rel = f"{folder}/{next_number[folder]:06d}.jpg"
            next_number[folder] += 1
            files[(artist, url)] = rel
            new_rows.append((artist, url, rel, *notes[(artist, url)]))
        if (out_dir / rel).is_file():
            present.add((artist, url))
        else:
            todo.append((artist, url, rel))
    if new_rows:
        manifest = pd.concat([manifest, pd.DataFrame(new_rows, columns=_COLUMNS)], ignore_index=True)
        write_table(manifest, out_dir / _MANIFEST)
    outcome = (
        _fetch(todo, out_dir, image_size=image_size, processes=processes, threads=threads, timeout=timeout)
        if todo
        else {}
    )
    if dropped is not None:
        write_table(dropped, out_dir / CAPTION_DROPS)
    shared = _duplicates(out_dir, manifest, duplicate_distance)
    records = []
    for artist, group in wanted.groupby("artist", sort=False):
        pairs = list(zip(group["artist"], group["url"], strict=True))
        already = sum(p in present for p in pairs)
        errors = Counter(outcome[p] for p in pairs if p not in present and outcome.get(p) is not None)
        downloaded = sum(p not in present and p in outcome and outcome[p] is None for p in pairs)
        records.append(
            {
                "artist": artist,
                "requested": len(pairs),
                "already_present": already,
                "downloaded": downloaded,
                "failed": len(pairs) - already - downloaded,
                "errors": "; ".join(f"{msg} ({n})" for msg, n in errors.most_common()),
                "duplicates": int((shared["artist"] == artist).sum()),
            }
        )
    return pd.DataFrame(
        records, columns=["artist", "requested", "already_present", "downloaded", "failed", "errors", "duplicates"]
    )


def _duplicates(out_dir: Path, manifest: pd.DataFrame, distance: int | None) -> pd.DataFrame:
    """List the downloaded works that are another artist's too in ``duplicates.csv``, and return that table."""
    present = [
        (a, out_dir / f) for a, f in zip(manifest["artist"], manifest["file"], strict=True) if (out_dir / f).is_file()
    ]
    table = cross_artist_duplicates(
        [a for a, _ in present],
        [str(p) for _, p in present],
        [sha256_file(p) for _, p in present],
        [perceptual_hash(p) for _, p in present],
        distance=ValidationParams().duplicate_distance if distance is None else distance,
    )
    write_table(table, out_dir / DUPLICATES)
    return table


def _read_manifest(out_dir: Path) -> pd.DataFrame:
    path = out_dir / _MANIFEST
    if not path.is_file():
        return pd.DataFrame(columns=_COLUMNS, dtype=str)
    try:
        manifest = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise AuditError(
            f"cannot read the download manifest ({exc})",
            where=str(path),
            fix="delete it (images are then downloaded again)",
        ) from None
    if list(manifest.columns[:3]) != ["artist", "url", "file"]:
        raise AuditError(
            "the download manifest lacks the columns artist,url,file",
            where=str(path),
            fix="delete it (images are then downloaded again)",
        )
    for column in _COLUMNS[3:]:  # manifests written before captions and forms were recorded
        if column not in manifest.columns:
            manifest[column] = ""
    return manifest


def _next_number(folder: Path, manifest: pd.DataFrame, folder_name: str) -> int:
    used = [-1]
    for rel in manifest["file"]:
        head, _, tail = rel.partition("/")
        m = _FILE.match(tail)
        if head == folder_name and m:
            used.append(int(m.group(1)))
    if folder.is_dir():
        used += [int(m.group(1)) for p in folder.iterdir() if (m := _FILE.match(p.name))]
    return max(used) + 1


def _fetch(todo, out_dir: Path, *, image_size, processes, threads, timeout) -> dict[tuple[str, str], str | None]:
    """Run img2dataset on ``todo`` = [(artist, url, relative file)]; move successes into place.

    Returns ``{(artist, url): None}`` for a success, else the error message.
    """
    os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")  # albumentations, imported by img2dataset, phones home
    try:
        from img2dataset import download
    except ImportError as exc:
        raise AuditError(
            f"img2dataset is not installed ({exc})",
            where="download_real_works",
            fix="pip install -e '.[download]'",
        ) from None
    if threading.current_thread() is not threading.main_thread():
        raise AuditError(
            "img2dataset must run in the main thread (it installs a signal handler)",
            where="download_real_works",
            fix="call download_real_works from the main thread",
        )
    work = Path(tempfile.mkdtemp(prefix=".img2dataset-", dir=out_dir))
    try:
        pq.write_table(
            pa.table({"url": [u for _, u, _ in todo], "target": [f for _, _, f in todo]}),
            work / "urls.parquet",
        )
        previous = signal.getsignal(signal.SIGINT)
        try:
            download(
                url_list=str(work / "urls.parquet"),
                output_folder=str(work / "out"),
                input_format="parquet",
                url_col="url",
                save_additional_columns=["target"],
                output_format="files",
                encode_format="jpg",
                image_size=int(image_size),
                resize_mode="keep_ratio",
                resize_only_if_bigger=True,
                processes_count=int(processes),
                thread_count=int(threads),
                timeout=int(timeout),
                retries=0,
                extract_exif=False,
                compute_hash=None,
                enable_wandb=False,
                # "overwrite" deletes the _tmp folder img2dataset has just made (1.47.0); the folder is new anyway
                incremental_mode="incremental",
                user_agent_token="imitation-audit",
            )
        finally:  # img2dataset's handler exits the interpreter on Ctrl-C; put the caller's back
            if previous is not None:  # None: a handler not installed from Python, which cannot be restored
                signal.signal(signal.SIGINT, previous)
        status: dict[str, str | None] = {}
        for shard in sorted((work / "out").glob("*.parquet")):
            meta = pq.read_table(shard, columns=["key", "status", "error_message", "target"]).to_pylist()
            for row in meta:
                image = shard.with_suffix("") / f"{row['key']}.jpg"
                if row["status"] == "success" and image.is_file():
                    dest = out_dir / row["target"]
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(image, dest)
                    status[row["target"]] = None
                else:
                    status[row["target"]] = row["error_message"] or row["status"] or "unknown error"
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {(a, u): status.get(f, "not attempted (img2dataset shard failed)") for a, u, f in todo}
