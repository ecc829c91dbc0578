"""Run the stage notebooks in order with papermill — the only code that executes notebooks.

    python -m helpers.runner --params params/smoke.yaml            # all five stages
    python -m helpers.runner --params params/smoke.yaml --stage 04_classification

Notebooks live in git as jupytext percent scripts (``notebooks/NN_stage.py``). Each is converted to a
notebook, executed with one parameter, ``params_file``, and saved with its outputs (or its error) in
``outputs/<run>/notebooks/``. Before anything runs, the params are validated and every model is checked
(:func:`helpers.models.preflight`), so a run that cannot finish stops in seconds and writes nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from .errors import AuditError, exit_on_error
from .paths import NOTEBOOKS_DIR, PROJECT_ROOT, STAGES, resolve_path

__all__ = ["notebook_paths", "preflight", "execute_stage", "reproduce", "main"]


def notebook_paths() -> dict[str, Path]:
    """The stage notebooks, found by their numbered names (never a hand-kept list)."""
    found = {p.stem: p for p in sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.py"))}
    if tuple(found) != STAGES:
        raise AuditError(
            f"notebooks/ holds {list(found)}, expected {list(STAGES)}",
            where=str(NOTEBOOKS_DIR),
            fix="restore the stage notebooks (git checkout notebooks/)",
        )
    return found


def execute_stage(params, params_file: Path, stage: str) -> Path:
    """Execute one stage notebook; return the executed copy. A failure leaves that copy (with the error)
    in the run folder, marks the stage failed in run.json and raises :class:`AuditError`."""
    import jupytext
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from . import record

    source = notebook_paths()[stage]
    out = params.paths.notebook(stage)
    out.parent.mkdir(parents=True, exist_ok=True)
    nb = jupytext.read(source)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    with tempfile.TemporaryDirectory() as tmp:
        given = Path(tmp) / f"{stage}.ipynb"
        jupytext.write(nb, given, fmt="ipynb")
        print(f"[{stage}] running → {out.relative_to(PROJECT_ROOT) if out.is_relative_to(PROJECT_ROOT) else out}", flush=True)
        try:
            papermill.execute_notebook(
                str(given),
                str(out),
                parameters={"params_file": str(params_file)},
                kernel_name="python3",
                cwd=str(PROJECT_ROOT),
                progress_bar=False,
                request_save_on_cell_execute=False,
            )
        except PapermillExecutionError as exc:
            status = record.read_run(params.paths).get("stages", {}).get(stage, {}).get("status")
            if status != "failed":
                record.mark(params, stage, "failed", error=f"{exc.ename}: {exc.evalue}")
            first = (str(exc.evalue).splitlines() or [""])[0]
            raise AuditError(
                f"stage {stage} failed: {exc.ename}: {first}",
                where=str(out),
                fix="read the error in the executed notebook, correct the cause and run again (finished images and embeddings are reused)",
            ) from None
        finally:
            _export_html(out)
    return out


def _export_html(notebook: Path) -> None:
    """An HTML copy of an executed notebook beside it, readable in any browser (the report links it)."""
    if not notebook.is_file():
        return
    import nbformat
    from nbconvert import HTMLExporter

    from .files import write_text

    body, _ = HTMLExporter().from_notebook_node(nbformat.read(notebook, as_version=4))
    write_text(notebook.with_suffix(".html"), body)


def preflight(params, stages: list[str]) -> None:
    """Everything a run needs that can be checked in seconds, before any stage runs: the candidate artists
    (every row) and, when generation or encoding will run, every model."""
    from . import models, selection

    selection.check_inputs(params)
    if any(s in ("02_generation", "03_encoding") for s in stages):
        models.preflight(params)


def reproduce(params_file: str | Path, stages: list[str] | None = None, *, check: bool = True) -> Path:
    """Validate params, run :func:`preflight`, run the stages (default: all five), write report.html."""
    from . import schema

    params = schema.load(params_file)  # fails here, before any heavy import, on a bad params file
    from . import provenance, report

    chosen = stages or list(STAGES)
    unknown = [s for s in chosen if s not in STAGES]
    if unknown:
        raise AuditError(f"unknown stage {unknown[0]!r}", fix=f"use one of {', '.join(STAGES)}")
    if check:
        preflight(params, chosen)
    if chosen == list(STAGES):  # a full run: nothing may look finished until it is
        for config in params.configurations:
            params.paths.config(config.name).summary_json.unlink(missing_ok=True)
        params.paths.report_html.unlink(missing_ok=True)
    for stage in chosen:
        execute_stage(params, resolve_path(params_file), stage)
    report.write_report(params)
    print(f"done: {params.paths.root}", flush=True)
    for caveat in provenance.caveats(params):
        print(f"note: {caveat}", flush=True)
    return params.paths.root


@exit_on_error
def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m helpers.runner", description=__doc__.split("\n\n")[0])
    ap.add_argument("--params", required=True, help="params YAML, e.g. params/smoke.yaml")
    ap.add_argument("--stage", action="append", choices=STAGES, help="run only this stage (repeatable)")
    ap.add_argument("--no-preflight", action="store_true", help="skip the model availability check")
    ns = ap.parse_args(argv)
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    reproduce(ns.params, ns.stage, check=not ns.no_preflight)


if __name__ == "__main__":
    main(sys.argv[1:])
