"""The course (``notebooks/course/``): exercise notebooks, their solutions, and ``make course``, which runs
every exercise notebook with its solution filled in and fails on any failed check.

An exercise notebook marks each cell the student writes with the tag ``exercise:<id>`` (its code is a
placeholder that raises until it is written) and checks the work in a following cell with assertions whose
messages say what is wrong. ``notebooks/course/solutions/<notebook>.py`` holds, for every id, the cell
tagged ``solution:<id>``. :func:`fill` puts each solution in place of its exercise; :func:`run` executes
the filled notebooks with papermill (on the toy world: a finished ``make demo`` run and its all-artists
variant), into ``outputs/course/``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import AuditError, exit_on_error
from .paths import NOTEBOOKS_DIR, OUTPUTS_DIR, PROJECT_ROOT

__all__ = ["COURSE_DIR", "RUNS", "course_notebooks", "fill", "run", "main"]

COURSE_DIR = NOTEBOOKS_DIR / "course"
RUNS = ("params/demo.yaml", "params/demo-all.yaml")
"""The runs the course reads, made (or found up to date) before it runs."""


def course_notebooks() -> list[Path]:
    """The exercise notebooks, in their numbered order (never a hand-kept list)."""
    found = sorted(COURSE_DIR.glob("[0-9][0-9]_*.py"))
    if not found:
        raise AuditError(f"no course notebooks in {COURSE_DIR}", fix="restore notebooks/course/ (git checkout)")
    return found


def _tagged(nb, prefix: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for i, cell in enumerate(nb.cells):
        for tag in cell.metadata.get("tags", []):
            if tag.startswith(prefix):
                key = tag.removeprefix(prefix)
                if key in out:
                    raise AuditError(f"two cells are tagged {tag!r}", fix="give each exercise its own id")
                out[key] = i
    return out


def fill(exercise: Path, solutions: Path):
    """The notebook ``exercise`` with each ``exercise:<id>`` cell replaced by ``solutions``' ``solution:<id>``
    cell (a jupytext notebook object). Every exercise needs its solution, and every solution its exercise."""
    import jupytext

    nb, sol = jupytext.read(exercise), jupytext.read(solutions)
    wanted, given = _tagged(nb, "exercise:"), _tagged(sol, "solution:")
    if set(wanted) != set(given):
        raise AuditError(
            f"exercises {sorted(wanted)} but solutions {sorted(given)}",
            where=str(solutions),
            fix="write one solution cell, tagged solution:<id>, for each exercise:<id> cell",
        )
    for key, i in wanted.items():
        nb.cells[i].source = sol.cells[given[key]].source
    return nb


def run(out_dir: Path | None = None, *, with_runs: bool = True) -> list[Path]:
    """Make (or find up to date) the toy-world runs the course reads, then execute every exercise notebook
    with its solution filled in; a failed check stops with the notebook and the check's message."""
    import tempfile

    import jupytext
    from papermill.exceptions import PapermillExecutionError

    from .runner import execute_notebook, reproduce

    if with_runs:
        for params_file in RUNS:
            reproduce(params_file)
    out_dir = Path(out_dir) if out_dir else OUTPUTS_DIR / "course"
    done = []
    with tempfile.TemporaryDirectory() as tmp:
        for notebook in course_notebooks():
            filled = Path(tmp) / notebook.name
            jupytext.write(fill(notebook, COURSE_DIR / "solutions" / notebook.name), filled, fmt="py:percent")
            out = out_dir / f"{notebook.stem}.ipynb"
            try:
                done.append(execute_notebook(filled, out, {}, label=f"course {notebook.stem}"))
            except PapermillExecutionError as exc:
                first = (str(exc.evalue).splitlines() or [""])[0]
                raise AuditError(
                    f"course notebook {notebook.name} failed: {exc.ename}: {first}",
                    where=str(out),
                    fix="read the failed check in the executed notebook",
                ) from None
    return done


@exit_on_error
def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m helpers.course", description="Run the course with its solutions.")
    ap.add_argument("--out", help="where the executed notebooks go (default outputs/course/)")
    ns = ap.parse_args(argv)
    done = run(Path(ns.out) if ns.out else None)
    rel = [str(p.relative_to(PROJECT_ROOT)) if p.is_relative_to(PROJECT_ROOT) else str(p) for p in done]
    print(f"course: {len(done)} notebooks passed their checks: {', '.join(rel)}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
