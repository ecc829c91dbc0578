"""The pipeline's table (helpers.pipeline): the README's stage table is a copy of it, each notebook runs its
stage's module and reads only what the table says it reads, and the order and staleness derived from it are
today's."""

import ast
import re

import jupytext
import pytest

from helpers import pipeline
from helpers.paths import NOTEBOOKS_DIR, PROJECT_ROOT
from helpers.pipeline import PIPELINE, STEPS


def _readme_stage_table() -> dict[str, dict[str, set[str]]]:
    """The README's table whose columns include ``stage`` (or ``notebook``), ``reads`` and ``writes``: for each
    stage, the products (backticked) in those two columns."""
    lines = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    cells = lambda line: [c.strip() for c in line.strip().strip("|").split("|")]  # noqa: E731
    for i, line in enumerate(lines):
        header = [c.lower() for c in cells(line)] if line.startswith("|") else []
        if (
            header
            and header[0] in ("stage", "notebook")
            and "reads" in header
            and any(c.startswith("writes") for c in header)
        ):
            reads, writes = header.index("reads"), next(j for j, c in enumerate(header) if c.startswith("writes"))
            rows = {}
            for row in lines[i + 2 :]:
                if not row.startswith("|"):
                    break
                row = cells(row)
                stage = re.match(r"`?(\d\d)[ _]([a-z]+)", row[0])
                assert stage, f"README stage table: {row[0]!r} names no stage"
                rows["_".join(stage.groups())] = {
                    "reads": set(re.findall(r"`([^`]+)`", row[reads])),
                    "writes": set(re.findall(r"`([^`]+)`", row[writes])),
                }
            return rows
    raise AssertionError("README.md has no table with the columns stage | reads | writes")


def test_the_readme_stage_table_is_the_pipeline():
    rows = _readme_stage_table()
    assert list(rows) == list(STEPS)
    for stage in PIPELINE:
        assert rows[stage.name] == {"reads": set(stage.reads), "writes": set(stage.writes)}, stage.name


def _calls(name: str) -> set[tuple[str, str]]:
    """``(module, function)`` of every ``module.function(...)`` call in notebook ``name``."""
    nb = jupytext.read(NOTEBOOKS_DIR / f"{name}.py")
    found = set()
    for cell in nb.cells:
        if cell.cell_type == "code":
            for node in ast.walk(ast.parse(cell.source)):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and isinstance(node.func.value, ast.Name)
                ):
                    found.add((node.func.value.id, node.func.attr))
    return found


@pytest.mark.parametrize("stage", PIPELINE, ids=lambda s: s.name)
def test_each_notebook_runs_its_module_and_reads_only_its_upstream(stage):
    calls = _calls(stage.name)
    assert (stage.module, "run_stage") in calls
    modules = {s.module: s.name for s in PIPELINE}
    read_from = {modules[m] for m, f in calls if f.startswith("read_") and m in modules}
    assert read_from <= set(pipeline.upstream(stage.name)), f"{stage.name} reads {read_from} beyond the table"


def test_the_order_and_staleness_are_todays():
    """Each stage needs the ones whose products it reads, and one run again makes every later stage stale."""
    assert STEPS == (
        "01_selection",
        "02_generation",
        "03_encoding",
        "04_classification",
        "05_validation",
        "06_comparison",
    )
    assert [pipeline.upstream(s)[-1] for s in STEPS[1:]] == list(STEPS[:-1])  # the latest is the one before
    for i, name in enumerate(STEPS):
        assert pipeline.downstream(name) == STEPS[i + 1 :]


FIRST_READER = {
    "run": 0,
    "seed": 0,
    "artists": 0,
    "selection": 0,
    "random_names": 0,
    "generation": 1,
    "encoding": 2,
    "classification": 3,
    "validation": 4,
    "classification.label_templates": 2,
    "validation.real_works_dir": 0,
    "validation.min_works": 0,
    "validation.max_works": 0,
    "validation.skip_bad_files": 0,
    "validation.standin": 0,
    "validation.standin_per_artist": 1,
    "validation.credit_forms": 0,
    "validation.style_forms": 0,
    "validation.duplicate_distance": 0,
}
"""The run record's map of params keys to the first stage that reads them, as it was written by hand."""


@pytest.mark.parametrize(
    "key",
    [
        *FIRST_READER,
        "classification.top_k",
        "classification.bootstrap",
        "validation.alpha",
        "validation.standin_per_artist",
        "generation.steps",
    ],
)
def test_a_params_key_is_charged_to_the_stage_it_was_before(key):
    section = max((k for k in FIRST_READER if key == k or key.startswith(k + ".")), key=len)
    assert pipeline.first_reader(key) == STEPS[FIRST_READER[section]]
    assert pipeline.stage(pipeline.first_reader(key)).frozen == (FIRST_READER[section] <= 1)


def test_keys_no_stage_reads_change_nothing():
    assert pipeline.first_reader("description") is None
    assert pipeline.first_reader("transforms") is None  # as before, though stage 03 applies them
