"""Run the stage notebooks with papermill, in the order of the pipeline's table (:mod:`helpers.pipeline`) — the
only code that executes notebooks.

    python -m helpers.runner --params params/smoke.yaml            # all five stages (and 06 for a sweep)
    python -m helpers.runner --params params/smoke.yaml --stage 04_classification
    python -m helpers.runner --params params/smoke.yaml --force    # run again what is up to date
    python -m helpers.runner --params params/smoke.yaml --wait 600 # queue behind a run holding the folder

A stage that finished on exactly the same inputs (params, code and notebooks, artists file, metadata, real
works, local model folders: :func:`helpers.record.inputs_digest`) is skipped, as long as every stage before
it was; a run of several configurations ends with ``06_comparison``.

Notebooks live in git as jupytext percent scripts (``notebooks/NN_stage.py``). Each is converted to a
notebook, executed with one parameter, ``params_file``, and saved with its outputs (or its error) in
``outputs/<run>/notebooks/``. Before anything runs, the params are validated and every model is checked
(:func:`helpers.models.preflight`), so a run that cannot finish stops in seconds and writes nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import sys
import tempfile
from pathlib import Path

from .errors import DEBUG_ENV, AuditError, Interrupted, exit_on_error, from_os_error
from .paths import NOTEBOOKS_DIR, PROJECT_ROOT, resolve_path
from .pipeline import PIPELINE, STEPS

__all__ = ["notebook_paths", "preflight", "execute_notebook", "execute_stage", "explore", "reproduce", "main"]


def notebook_paths() -> dict[str, Path]:
    """The stage notebooks, found by their numbered names (never a hand-kept list)."""
    found = {p.stem: p for p in sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.py"))}
    if tuple(found) != STEPS:
        raise AuditError(
            f"notebooks/ holds {list(found)}, expected {list(STEPS)}",
            where=str(NOTEBOOKS_DIR),
            fix="restore the stage notebooks (git checkout notebooks/)",
        )
    return found


def execute_notebook(source: Path, out: Path, parameters: dict, *, label: str) -> Path:
    """Execute the jupytext notebook ``source`` with papermill into ``out`` (and an HTML copy beside it), from
    the project root; a failing cell raises papermill's error after the executed copy is written.

    The executed copy is written to a temporary file and renamed into place only once it is complete, so
    ``out`` is never half a notebook (a full disk, an interrupt); the HTML copy is made only from a complete
    one, and skipped with a note otherwise."""
    import jupytext
    import papermill

    out.parent.mkdir(parents=True, exist_ok=True)
    nb = jupytext.read(source)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    partial = out.with_name(f".{out.stem}.partial{out.suffix}")
    with tempfile.TemporaryDirectory() as tmp:
        given = Path(tmp) / f"{source.stem}.ipynb"
        jupytext.write(nb, given, fmt="ipynb")
        print(
            f"[{label}] running → {out.relative_to(PROJECT_ROOT) if out.is_relative_to(PROJECT_ROOT) else out}",
            flush=True,
        )
        try:
            with _kernel_log(out.with_suffix(".kernel.log")):
                papermill.execute_notebook(
                    str(given),
                    str(partial),
                    parameters=parameters,
                    kernel_name="python3",
                    cwd=str(PROJECT_ROOT),
                    progress_bar=False,
                    request_save_on_cell_execute=False,
                )
        finally:
            _settle_notebook(partial, out, label)
    return out


@contextlib.contextmanager
def _kernel_log(path: Path):
    """Send what the kernel process itself writes to stderr (its start-up warnings; its last words when it is
    stopped or dies) to ``path`` instead of the terminal, where it would bury the one line that matters. What
    the notebook's cells print goes into the executed notebook as always."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(path, "wb") as log:
            os.dup2(log.fileno(), 2)
            try:
                yield path
            finally:
                sys.stderr.flush()
                os.dup2(saved, 2)
    finally:
        os.close(saved)


def _settle_notebook(partial: Path, out: Path, label: str) -> None:
    """Rename a complete executed notebook into place and export its HTML copy; drop an incomplete one."""
    import nbformat

    if not partial.is_file():
        return
    try:
        node = nbformat.read(partial, as_version=4)
    except Exception:  # noqa: BLE001 - cut short (full disk, killed writer): not a notebook to keep
        partial.unlink(missing_ok=True)
        print(
            f"[{label}] note: the executed notebook was incomplete, so it and its HTML copy were not written",
            flush=True,
        )
        return
    os.replace(partial, out)
    try:
        _export_html(out, node)
    except OSError as exc:
        out.with_suffix(".html").unlink(missing_ok=True)
        print(f"[{label}] note: HTML copy skipped ({exc.strerror}); the notebook itself is complete", flush=True)


def execute_stage(params, params_file: Path, stage: str) -> Path:
    """Execute one stage notebook; return the executed copy. A failure leaves that copy (with the error)
    in the run folder, marks the stage failed — or interrupted, for Ctrl-C and SIGTERM — in run.json and
    raises :class:`AuditError` (:class:`Interrupted`): one line naming the stage, the cause and the fix."""
    from nbclient.exceptions import DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    out = params.paths.notebook(stage)
    try:
        return execute_notebook(notebook_paths()[stage], out, {"params_file": str(params_file)}, label=stage)
    except PapermillExecutionError as exc:
        first = (str(exc.evalue).splitlines() or [""])[0]
        if exc.ename == "KeyboardInterrupt":  # the kernel saw Ctrl-C first
            raise _interrupted(params, stage, signal.SIGINT) from None
        _record_end(params, stage, "failed", f"{exc.ename}: {exc.evalue}")
        fault = _fault_in_notebook(exc, stage)
        if fault is not None:
            raise fault from None
        raise AuditError(
            f"stage {stage} failed: {exc.ename}: {first}",
            where=str(out),
            fix="read the error in the executed notebook, correct the cause and run again (finished images and embeddings are reused)",
        ) from None
    except DeadKernelError:
        _record_end(params, stage, "failed", "the notebook's kernel died")
        raise AuditError(
            f"stage {stage} stopped: the notebook's kernel died (most often: out of memory, or killed; its last "
            f"words are in {out.with_suffix('.kernel.log').name})",
            where=str(params.paths.root),
            fix="free memory or lower generation.batch_size / encoding.batch_size, then run the same command again to resume",
        ) from None
    except (KeyboardInterrupt, Interrupted) as exc:
        raise _interrupted(params, stage, getattr(exc, "signum", signal.SIGINT)) from None
    except OSError as exc:
        fault = from_os_error(exc, doing=f"stage {stage}")
        _record_end(params, stage, "failed", f"{type(exc).__name__}: {exc}")
        if fault is None:
            raise
        raise fault from None


def _interrupted(params, stage: str, signum: int) -> Interrupted:
    """Record ``stage`` as interrupted by ``signum`` and return the one-line error that says so."""
    name = signal.Signals(signum).name
    _record_end(params, stage, "interrupted", f"stopped by {name}")
    return Interrupted(f"stage {stage} interrupted ({name})", signum=signum, where=str(params.paths.root))


def _fault_in_notebook(exc, stage: str) -> AuditError | None:
    """A full disk or read-only folder that failed a cell, told as such (the cell saw an OSError)."""
    number = re.match(r"\[Errno (\d+)\] ([^:]*)(?:: '(.*)')?", str(exc.evalue))
    if not number:
        return None
    os_error = OSError(int(number.group(1)), number.group(2), number.group(3))
    return from_os_error(os_error, doing=f"stage {stage}")


def _record_end(params, stage: str, status: str, cause: str) -> None:
    """Record how a stage ended, unless its notebook already did; never fails (on a full disk the next start
    settles a stage left running: :func:`record.settle`)."""
    from . import record

    try:
        entry = record.read_run(params.paths).get("stages", {}).get(stage, {})
        if entry.get("status") != status or status == "interrupted":  # a failure keeps the notebook's own cause
            record.mark(params, stage, status, error=cause)
    except (OSError, AuditError):
        pass


def explore(params_file: str | Path, artist: str | None = None, config: str | None = None) -> Path:
    """Execute ``notebooks/explore.py`` on a finished run into ``outputs/<run>/notebooks/explore.ipynb``."""
    from papermill.exceptions import PapermillExecutionError

    from . import schema

    params = schema.load(params_file)
    out = params.paths.notebook("explore")
    try:
        return execute_notebook(
            NOTEBOOKS_DIR / "explore.py",
            out,
            {"params_file": str(resolve_path(params_file)), "artist": artist, "config": config},
            label="explore",
        )
    except PapermillExecutionError as exc:
        first = (str(exc.evalue).splitlines() or [""])[0]
        raise AuditError(
            f"the explorer failed: {exc.ename}: {first}",
            where=str(out),
            fix="run the five stages first (make reproduce), and name an artist of the run",
        ) from None


def _export_html(notebook: Path, node) -> None:
    """An HTML copy of the executed notebook ``node`` (read from ``notebook``) beside it, readable in any
    browser (the report links it)."""
    from nbconvert import HTMLExporter

    from .files import write_text

    body, _ = HTMLExporter().from_notebook_node(node)
    write_text(notebook.with_suffix(".html"), body)


def preflight(params, stages: list[str]) -> None:
    """Everything a run needs that can be checked in seconds, before any stage runs: the candidate artists
    (every row), the folders of the transforms' folder steps (stage 03 checks their every image) and, when
    generation or encoding will run, every model."""
    from . import models, selection, transforms

    selection.check_inputs(params)
    for i, chain in enumerate(params.transforms):
        for j, folder in transforms.folder_steps(chain):
            if not resolve_path(folder).is_dir():
                raise AuditError(
                    f"the folder step's folder {resolve_path(folder)} does not exist",
                    where=f"transforms[{i}].steps[{j}].path",
                    fix="point it at a folder of images with the same relative paths as the sources",
                )
    if any(s in ("02_generation", "03_encoding") for s in stages):
        models.preflight(params)


def reproduce(
    params_file: str | Path,
    stages: list[str] | None = None,
    *,
    check: bool = True,
    force: bool = False,
    wait: float = 0.0,
) -> Path:
    """Validate params, run :func:`preflight`, run the stages (default: every stage of :data:`PIPELINE` in its
    order: the five, then ``06_comparison`` when the run has several configurations), write report.html.
    Without ``stages`` or ``force``, stages that are up to date are skipped (see the module docstring); stages
    named in ``stages`` always run.

    The run folder is locked for the whole run (:mod:`helpers.lock`): a second runner on it waits up to
    ``wait`` seconds, then refuses naming the holder. A stage a killed run left ``running`` is recorded as
    interrupted first."""
    from . import schema

    params = schema.load(params_file)  # fails here, before any heavy import, on a bad params file
    from . import lock, provenance, record, report

    chosen = stages or [s.name for s in PIPELINE if not s.sweep_only or len(params.configurations) > 1]
    unknown = [s for s in chosen if s not in STEPS]
    if unknown:
        raise AuditError(f"unknown stage {unknown[0]!r}", fix=f"use one of {', '.join(STEPS)}")
    if check:
        preflight(params, chosen)
    with lock.hold(params.paths.lock_file, wait=wait, what=f"run folder {params.paths.root}"):
        for left in record.settle(params):
            print(f"[{left}] note: an earlier run stopped without finishing it (recorded as interrupted)", flush=True)
        inputs = record.inputs_digest(params)
        skipping = not stages and not force
        for stage in chosen:
            if skipping and record.up_to_date(params, stage, inputs):
                print(f"[{stage}] up to date, skipped (--force runs it again)", flush=True)
                continue
            skipping = False  # a stage ran: every later one runs too
            if stage == STEPS[0]:  # a run from the start: no report may look finished until it is
                params.paths.report_html.unlink(missing_ok=True)
            record.stale_after(params, stage)  # the stages that read it go stale, summary.json with 05
            execute_stage(params, resolve_path(params_file), stage)
        try:
            report.write_report(params)
        except OSError as exc:
            raise from_os_error(exc, doing="writing report.html") or exc from None
    for stage, entry in record.read_run(params.paths).get("stages", {}).items():
        if entry.get("status") == "stale":
            print(
                f"[{stage}] note: stale (a stage or params it reads changed since it ran): run it again with "
                f"--stage {stage}, or the whole run",
                flush=True,
            )
    print(f"done: {params.paths.root}", flush=True)
    for caveat in provenance.caveats(params):
        print(f"note: {caveat}", flush=True)
    return params.paths.root


@exit_on_error
def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m helpers.runner", description=__doc__.split("\n\n")[0])
    ap.add_argument("--params", required=True, help="params YAML, e.g. params/smoke.yaml")
    ap.add_argument("--stage", action="append", choices=STEPS, help="run only this stage (repeatable)")
    ap.add_argument("--force", action="store_true", help="run every stage, also those that are up to date")
    ap.add_argument("--no-preflight", action="store_true", help="skip the model availability check")
    ap.add_argument(
        "--explore",
        metavar="ARTIST",
        nargs="?",
        const="",
        help="run notebooks/explore.py on the "
        "finished run instead (for ARTIST; without one, the most accurately imitated)",
    )
    ap.add_argument("--config", help="with --explore: the configuration of a sweep")
    ap.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="if another run holds the run folder, wait up to this long for it (default: refuse at once)",
    )
    ap.add_argument("--debug", action="store_true", help=f"show tracebacks of faults (same as {DEBUG_ENV}=1)")
    ns = ap.parse_args(argv)
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    if ns.debug:
        os.environ[DEBUG_ENV] = "1"
    if ns.explore is not None:
        explore(ns.params, ns.explore or None, ns.config)
        return
    reproduce(ns.params, ns.stage, check=not ns.no_preflight, force=ns.force, wait=ns.wait)


if __name__ == "__main__":
    main(sys.argv[1:])
