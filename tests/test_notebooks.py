"""The stage notebooks: found by their numbered names, one parameters cell explained in markdown, no
reusable logic, and no generated .ipynb in git."""

import ast
import subprocess
from pathlib import Path

import jupytext
import pytest

from helpers.errors import AuditError
from helpers.paths import NOTEBOOKS_DIR, PROJECT_ROOT
from helpers.pipeline import STEPS
from helpers.runner import notebook_paths


def test_a_missing_stage_notebook_is_named_before_anything_runs(tmp_path, monkeypatch):
    """The stage notebooks are found by their numbered names; a folder that lacks one is refused, naming what
    it holds and what was expected, instead of running a pipeline with a stage missing."""
    from helpers import runner

    assert tuple(notebook_paths()) == STEPS
    for stage, path in notebook_paths().items():
        if stage != "04_classification":
            (tmp_path / path.name).write_text(path.read_text())
    monkeypatch.setattr(runner, "NOTEBOOKS_DIR", tmp_path)
    with pytest.raises(AuditError, match="expected .*04_classification"):
        runner.notebook_paths()


@pytest.mark.parametrize("stage", STEPS)
def test_one_parameters_cell_then_markdown_explaining_it(stage):
    nb = jupytext.read(NOTEBOOKS_DIR / f"{stage}.py")
    tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one parameters cell"
    i = tagged[0]
    names = [t.id for node in ast.parse(nb.cells[i].source).body if isinstance(node, ast.Assign) for t in node.targets]
    assert names == ["params_file"]
    explain = nb.cells[i + 1]
    assert explain.cell_type == "markdown" and all(f"`{n}`" in explain.source for n in names)
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith(f"# {stage[:2]} ·")


ALLOWED_IMPORTS = {("IPython.display", "display")}
"""Besides modules of the helpers package, the one name a notebook may import."""


@pytest.mark.parametrize("stage", STEPS)
def test_notebooks_hold_no_reusable_logic(stage):
    """Loops, functions and classes belong in src/helpers; notebooks narrate, call and show. They import
    helpers modules by their own names (no aliases) and IPython's display, nothing else."""
    import helpers

    nb = jupytext.read(NOTEBOOKS_DIR / f"{stage}.py")
    modules = {p.stem for p in Path(helpers.__file__).parent.glob("*.py")} | {
        p.name for p in Path(helpers.__file__).parent.iterdir() if (p / "__init__.py").is_file()
    }
    imported = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(cell.source)):
            assert not isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.For, ast.While, ast.Lambda)), (
                stage,
                cell.source,
            )
            assert not isinstance(node, ast.Import), (stage, "use 'from helpers import ...'", cell.source)
            if isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    assert alias.asname is None, (stage, f"{alias.name} imported as {alias.asname}")
                    if node.module == "helpers":
                        assert alias.name in modules, (stage, alias.name)
                    else:
                        assert (node.module, alias.name) in ALLOWED_IMPORTS, (stage, node.module, alias.name)
                    imported.append(alias.name)
    assert "schema" in imported and "record" in imported  # every stage loads its params and records itself


def test_no_generated_notebooks_or_outputs_in_git():
    tracked = subprocess.run(["git", "ls-files"], capture_output=True, text=True, cwd=PROJECT_ROOT).stdout.split()
    if not tracked:
        pytest.skip("not a git checkout")
    assert not [f for f in tracked if f.endswith(".ipynb")]
    assert not [f for f in tracked if f.startswith("outputs/") and f != "outputs/.gitkeep"]
