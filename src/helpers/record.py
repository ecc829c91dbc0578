"""The run record, ``run.json``: what a run is (params, models, versions, commit) and where each stage stands.

Every stage notebook wraps its work in :func:`stage`, so ``run.json`` says which stages finished, failed, were
interrupted or are running — whether the notebook ran under ``make reproduce`` or by hand in JupyterLab — and a
stage refuses to start on a stage that has not finished (:func:`require`). A stage records the process and host
that run it; one left ``running`` by a process that is gone (SIGKILL, a power cut) is recorded as interrupted by
the next runner or stage to take the run folder's lock (:func:`settle`). Params may change under a run only
where no name or image depends on them. Which stage needs which, and what goes stale when a stage runs again or
its params change, is read from the pipeline's table (:mod:`helpers.pipeline`).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import platform
import socket
import subprocess
from collections.abc import Iterator
from functools import cache
from glob import glob
from pathlib import Path
from typing import Any

import yaml

from . import lock, models, pipeline, provenance, transforms
from .errors import AuditError, fault_kind
from .files import file_identity, folder_identity, json_digest, package_versions, write_json, write_text
from .paths import NOTEBOOKS_DIR, PROJECT_ROOT, RunPaths, resolve_path
from .pipeline import STEPS
from .schema import Params

__all__ = ["stage", "mark", "settle", "stale_after", "require", "read_run", "inputs_digest", "up_to_date", "STATUSES"]

STATUSES = ("running", "done", "failed", "interrupted", "stale")

_PACKAGES = (
    "torch",
    "diffusers",
    "transformers",
    "open_clip_torch",
    "accelerate",
    "numpy",
    "pandas",
    "scipy",
    "statsmodels",
    "duckdb",
    "faker",
    "papermill",
)


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


# -- run.json ------------------------------------------------------------------------------------
def read_run(paths: RunPaths) -> dict:
    """The run record, or an empty record for a run folder that does not exist yet."""
    if not paths.run_json.is_file():
        return {}
    try:
        return json.loads(paths.run_json.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise AuditError(
            f"{paths.run_json} is not valid JSON ({exc})",
            fix="restore it, or delete the run folder and run again",
        ) from None


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def _versions() -> dict[str, str | None]:
    return {"python": platform.python_version(), **package_versions(_PACKAGES)}


def _flat(d: dict, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _frozen(key: str) -> bool:
    reader = pipeline.first_reader(key)
    return reader is not None and pipeline.stage(reader).frozen


def _apply_changes(params: Params, record: dict, digest: str) -> None:
    """Record a params change: refused when a stage that makes names or images is the first to read a changed
    key (two settings would mix in the run folder); otherwise the first stage that reads a changed key and
    every stage after it that reads its products go stale, to be run again."""
    old, new = _flat(record.get("params", {})), _flat(params.model_dump())
    changed = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
    early = [k for k in changed if _frozen(k)]
    if early:
        shown = ", ".join(f"{k}: {old.get(k)!r} there, {new.get(k)!r} now" for k in early)
        raise AuditError(
            f"run folder {params.paths.root} was made with other params that change its names or images ({shown})",
            fix="give the run a new 'run:' name, or delete that folder (make clean-run RUN=" + params.run + ")",
        )
    record.setdefault("params_changes", []).append({"at": _now(), "changed": changed})
    record["params"], record["params_digest"] = params.model_dump(), digest
    record["models"], record["weights"] = models.describe(params), provenance.weights(params)
    readers = {r for r in map(pipeline.first_reader, changed) if r is not None}
    first = next((s for s in STEPS if s in readers), None)
    for stage in (first, *pipeline.downstream(first)) if first is not None else ():
        if stage in record["stages"]:
            _set_status(params, record, stage, "stale")


def _record(params: Params) -> dict:
    """The run record (a new one when the run has none), with any params change since applied in memory
    (:func:`_apply_changes`); nothing is written until :func:`_save`."""
    record = read_run(params.paths)
    digest = params.digest()
    if record and record.get("params_digest") != digest:
        _apply_changes(params, record, digest)
    if not record:
        record = {
            "run": params.run,
            "created": _now(),
            "params_digest": digest,
            "params": params.model_dump(),
            "weights": provenance.weights(params),
            "models": models.describe(params),
            "versions": _versions(),
            "git_commit": _git_commit(),
            "stages": {},
        }
    return record


def _save(params: Params, record: dict) -> None:
    """Write ``run.json``, and ``params.yaml`` (the params it records) when that differs."""
    record["updated"] = _now()
    write_json(params.paths.run_json, record)
    text = yaml.safe_dump(record["params"], sort_keys=False, allow_unicode=True)
    copy = params.paths.params_copy
    if not copy.is_file() or copy.read_text(encoding="utf-8") != text:
        write_text(copy, text)


def mark(params: Params, name: str, status: str, error: str | None = None) -> None:
    """Set one stage's status (``running``, ``done``, ``failed``, ``interrupted``) in ``run.json``; a stage
    marked ``done`` records the :func:`inputs_digest` it ran on, one marked ``running`` this process and host."""
    _known(name)
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}: use one of {STATUSES}")
    record = _record(params)
    _set_status(params, record, name, status, error)
    if status == "done":
        record["stages"][name]["inputs"] = inputs_digest(params)
    _save(params, record)


def _known(name: str) -> None:
    if name not in STEPS:
        raise AuditError(f"unknown stage {name!r}", fix=f"use one of {', '.join(STEPS)}")


def _set_status(params: Params, record: dict, name: str, status: str, error: str | None = None) -> None:
    """Set one stage's status in ``record``; a stage that is not done loses the products that expire with it
    (:attr:`pipeline.Stage.expires`: ``summary.json`` quotes stage 04's headline, so it is there only while
    05_validation is done)."""
    if status != "done":
        _expire(params, name)
    entry = record["stages"].setdefault(name, {})
    entry["status"] = status
    if status != "stale":  # stale keeps when the stage last ran
        entry["started" if status == "running" else "finished"] = _now()
    if status == "running":
        for key in ("finished", "error", "inputs"):
            entry.pop(key, None)
        entry["pid"], entry["host"] = os.getpid(), socket.gethostname()
    if error:
        entry["error"] = error


def _expire(params: Params, name: str) -> None:
    stage = pipeline.stage(name)
    folders = (
        [params.paths.config(c.name).root for c in params.configurations] if stage.per_config else [params.paths.root]
    )
    for folder in folders:
        for product in stage.expires:
            (folder / product).unlink(missing_ok=True)


@cache
def _code_digest() -> str:
    """The package's code and data files and the notebooks: what a stage's outputs depend on besides params."""
    package = Path(__file__).parent
    files = sorted([*package.rglob("*.py"), *package.rglob("*.json"), *NOTEBOOKS_DIR.rglob("*.py")])
    return json_digest([(str(p), file_identity(p)) for p in files])


def inputs_digest(params: Params) -> str:
    """Everything a run's outputs depend on: its params, the code and notebooks, the artists file, the
    caption metadata, the real works, every local model folder and the folders of the transforms' folder steps
    (each file by :func:`files.file_identity`).
    Equal digests mean a finished stage would compute the same again."""
    data: dict[str, object] = {"params": params.digest(), "code": _code_digest()}
    data["artists"] = file_identity(resolve_path(params.artists.file))
    if params.selection.metadata is not None:
        pattern = str(resolve_path(params.selection.metadata))
        found = (
            sorted(glob(pattern))
            if not Path(pattern).is_dir()
            else [str(p) for p in sorted(Path(pattern).rglob("*.parquet"))]
        )
        data["metadata"] = [(f, file_identity(Path(f))) for f in found if Path(f).is_file()]
    if params.validation.real_works_dir is not None:
        data["real_works"] = folder_identity(resolve_path(params.validation.real_works_dir))
    specs = [*params.generation.generators, *params.encoding.encoders]
    data["models"] = [folder_identity(resolve_path(s.model)) for s in specs if s.source == "local"]
    folders = [resolve_path(f) for t in params.transforms for _, f in transforms.folder_steps(t)]
    if folders:  # the transforms' folder steps (absent otherwise: the digest of a run without them is unchanged)
        data["transform_folders"] = [folder_identity(f) if f.is_dir() else str(f) for f in folders]
    return json_digest(data)


def up_to_date(params: Params, name: str, inputs: str) -> bool:
    """Whether stage ``name`` finished on exactly these ``inputs`` (an :func:`inputs_digest`)."""
    entry = read_run(params.paths).get("stages", {}).get(name, {})
    return entry.get("status") == "done" and entry.get("inputs") == inputs


def require(params: Params, name: str, record: dict | None = None) -> None:
    """Refuse to run stage ``name`` unless every stage whose products it reads finished in this run folder
    (the latest of them is named first)."""
    record = read_run(params.paths) if record is None else record
    for before in reversed(pipeline.upstream(name)):
        status = record.get("stages", {}).get(before, {}).get("status", "not run")
        if status == "done":
            continue
        raise AuditError(
            f"stage {name} needs stage {before}, whose status in run '{params.run}' is '{status}'",
            where=str(params.paths.run_json),
            fix=f"run {before} first (make reproduce PARAMS=..., or the notebook notebooks/{before}.py)",
        )


def settle(params: Params) -> list[str]:
    """Record as ``interrupted`` every stage left ``running`` by a process that is gone; return their names.
    Call it only while holding the run folder's lock (:mod:`helpers.lock`): then no other process can be
    running a stage here, whatever the record says."""

    def cause(entry: dict) -> str:
        return f"its process ({entry.get('pid')} on {entry.get('host')}) ended without finishing (killed?)"

    return _restatus(params, STEPS, "running", "interrupted", cause)


def stale_after(params: Params, name: str) -> None:
    """Mark stale every finished stage that reads the products of ``name``, directly or through another:
    ``name`` is about to run again, so what they computed from its products may no longer hold (a full run
    reruns them; ``--stage`` leaves them to the next run)."""
    _restatus(params, pipeline.downstream(name), "done", "stale")


def _restatus(params: Params, names, old: str, new: str, cause=None) -> list[str]:
    """Set every stage of ``names`` whose status is ``old`` to ``new`` (with ``cause(entry)`` as its error),
    writing ``run.json`` only when one changed; return the stages changed."""
    record = read_run(params.paths)
    changed = _restatus_in(params, record, names, old, new, cause)
    if changed:
        record["updated"] = _now()
        write_json(params.paths.run_json, record)
    return changed


def _restatus_in(params: Params, record: dict, names, old: str, new: str, cause=None) -> list[str]:
    stages = record.get("stages", {})
    changed = [n for n in names if stages.get(n, {}).get("status") == old]
    for n in changed:
        _set_status(params, record, n, new, cause(stages[n]) if cause else None)
    return changed


def _failure_status(exc: BaseException) -> str:
    return "interrupted" if fault_kind(exc) == "interrupt" else "failed"


@contextlib.contextmanager
def stage(params: Params, name: str) -> Iterator[RunPaths]:
    """Run a stage's work inside this block: takes the run folder's lock (unless the runner that started this
    notebook holds it), checks the stages it reads, marks the finished stages that read it stale
    (:func:`stale_after`), then records running and done, failed or interrupted."""
    _known(name)
    if not params.paths.run_json.is_file():
        require(params, name, {})  # nothing has run here: refuse before creating anything (the lock's folder)
    under_runner = lock.held_by_parent(params.paths.lock_file)  # its runner settled the record when it started
    with lock.hold(params.paths.lock_file, what=f"run folder {params.paths.root}"):
        if not under_runner and params.paths.run_json.is_file():
            settle(params)
        record = _record(params)  # params changed since? the stages they make stale are marked first
        try:
            require(params, name, record)
        except AuditError:
            if params.paths.run_json.is_file():  # keep what changed params made stale; create nothing to refuse
                _save(params, record)
            raise
        _set_status(params, record, name, "running")
        _restatus_in(params, record, pipeline.downstream(name), "done", "stale")  # as stale_after, run by hand too
        _save(params, record)
        try:
            yield params.paths
        except BaseException as exc:
            try:
                mark(params, name, _failure_status(exc), error=f"{type(exc).__name__}: {exc}")
            except OSError:  # the disk that failed the stage may refuse the record too: the runner settles it
                pass
            raise
        mark(params, name, "done")
