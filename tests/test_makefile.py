"""The Makefile documents itself: `make` alone lists every target the README names."""

import shutil
import subprocess

import pytest

from helpers.paths import PROJECT_ROOT

TARGETS = ["help", "setup", "reproduce", "demo", "demo-hard", "smoke", "course", "explore", "stage", "test", "lab", "lint", "bench", "clean",
           "clean-run"]


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_help_is_the_default_and_lists_every_target():
    out = subprocess.run(["make", "--no-print-directory"], capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=60)
    assert out.returncode == 0
    listed = [line.split()[0] for line in out.stdout.replace("\x1b[1m", "").replace("\x1b[0m", "").splitlines() if line.startswith("  ") and "variables" not in line]
    assert listed == TARGETS
    readme = (PROJECT_ROOT / "README.md").read_text()
    assert all(f"`{t}`" in readme for t in TARGETS)


def test_ci_runs_the_readme_test_command():
    assert "make test" in (PROJECT_ROOT / ".ci" / "run").read_text()
    assert "make test" in (PROJECT_ROOT / "README.md").read_text()
