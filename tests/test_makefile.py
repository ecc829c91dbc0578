"""The Makefile documents itself (`make` alone lists every target the README names), and its commands work in
any order: `clean` removes what its help says it removes, and every target that runs a params file builds the
toy corpora that params file reads first."""

import re
import shutil
import subprocess

import pytest

from helpers.paths import PROJECT_ROOT

TARGETS = [
    "help",
    "setup",
    "reproduce",
    "demo",
    "demo-hard",
    "smoke",
    "course",
    "explore",
    "stage",
    "test",
    "lab",
    "lint",
    "format",
    "bench",
    "clean",
    "clean-run",
]


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_help_is_the_default_and_lists_every_target():
    out = subprocess.run(["make", "--no-print-directory"], capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=60)
    assert out.returncode == 0
    listed = [
        line.split()[0]
        for line in out.stdout.replace("\x1b[1m", "").replace("\x1b[0m", "").splitlines()
        if line.startswith("  ") and "variables" not in line
    ]
    assert listed == TARGETS
    readme = (PROJECT_ROOT / "README.md").read_text()
    assert all(f"`{t}`" in readme for t in TARGETS)


def test_ci_runs_the_readme_test_command():
    """CI (.ci/run) executes, as a command and not in a comment, the very command the README gives for the
    tests — and that command is a make target whose recipe runs pytest."""
    import shlex

    commands = [shlex.split(line, comments=True) for line in (PROJECT_ROOT / ".ci" / "run").read_text().splitlines()]
    commands = [c for c in commands if c]
    readme = (PROJECT_ROOT / "README.md").read_text().splitlines()
    (given,) = [
        shlex.split(line, comments=True) for line in readme if "what CI runs" in line and line.startswith("make")
    ]
    assert given in commands, (given, commands)
    target = given[1]
    makefile = (PROJECT_ROOT / "Makefile").read_text().split(f"\n{target}:", 1)[1].split("\n\n", 1)[0]
    assert "-m pytest" in makefile


def _help() -> str:
    out = subprocess.run(["make", "--no-print-directory"], capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=60)
    return out.stdout.replace("\x1b[1m", "").replace("\x1b[0m", "")


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_clean_removes_what_its_help_names_and_keeps_the_rest(tmp_path):
    """In a copy of the project's layout: every path `make help` says clean removes is gone, every path it
    says clean keeps (and the run folder's placeholder) is still there."""
    line = next(line for line in _help().splitlines() if line.split()[:1] == ["clean"])
    removes = re.findall(r"[\w./*-]+", line.split(":", 1)[1].split("(keeps")[0])
    keeps = re.findall(r"[\w./-]+", line.split("(keeps", 1)[1])
    assert {"outputs/*", "outputs/.cache"} <= set(removes) and {".venv", "data/"} <= set(keeps)
    made = {
        "outputs/*": "outputs/demo/run.json",
        "outputs/.cache": "outputs/.cache/embeddings/x.npy",
        ".pytest_cache": ".pytest_cache/v/x",
        ".ruff_cache": ".ruff_cache/x",
        "__pycache__": "src/pkg/__pycache__/m.pyc",
    }
    assert set(removes) == set(made), "a path the help names has no file here to remove"
    kept = [".venv/lib/__pycache__/m.pyc", "data/toy_world/corpus.json", "outputs/.gitkeep", "src/pkg/m.py"]
    for rel in [*made.values(), *kept]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    shutil.copy(PROJECT_ROOT / "Makefile", tmp_path / "Makefile")
    out = subprocess.run(
        ["make", "--no-print-directory", "clean"], capture_output=True, text=True, cwd=tmp_path, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert [rel for rel in made.values() if (tmp_path / rel).exists()] == []
    assert [rel for rel in kept if not (tmp_path / rel).exists()] == []


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
@pytest.mark.parametrize("target", ["reproduce", "stage", "explore"])
def test_a_target_that_runs_params_builds_their_toy_corpora_first(target):
    """On a fresh clone data/ is empty: the corpus step (python -m helpers.toyworld for-params, tested in
    tests/test_toyworld.py) runs before the runner, for the params given."""
    params = "params/sweep-demo.yaml"
    out = subprocess.run(
        ["make", "--no-print-directory", "-n", target, f"PARAMS={params}", "STAGE=01_selection", "ARTIST=x"],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    corpus = [i for i, line in enumerate(lines) if f"helpers.toyworld for-params {params}" in line]
    runner = [i for i, line in enumerate(lines) if f"helpers.runner --params {params}" in line]
    assert corpus and runner and corpus[0] < runner[0], out.stdout
