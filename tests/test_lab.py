"""`make lab`: JupyterLab started as the Makefile starts it opens the notebooks/*.py files as notebooks on a
double-click (the project's settings override, nothing to configure per user) and asks no news server."""

import json
import socket
import subprocess
import time
import urllib.request

import pytest

from helpers.paths import PROJECT_ROOT

pytestmark = pytest.mark.slow


def _lab_command() -> list[str]:
    recipe = (PROJECT_ROOT / "Makefile").read_text().split("\nlab:", 1)[1].splitlines()[1]
    words = recipe.strip().replace("$(VENV)/bin/", "").split()
    assert words[:2] == ["jupyter", "lab"], recipe
    return [str(PROJECT_ROOT / ".venv" / "bin" / "jupyter"), *words[1:]]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_lab_opens_python_notebooks_as_notebooks():
    command = _lab_command()
    settings = [w for w in command if w.startswith("--LabApp.app_settings_dir=")]
    assert settings, "make lab must point JupyterLab at the project's settings"
    overrides = json.loads((PROJECT_ROOT / settings[0].split("=", 1)[1] / "overrides.json").read_text())
    assert overrides["@jupyterlab/docmanager-extension:plugin"]["defaultViewers"]["python"] == "Jupytext Notebook"
    if not (PROJECT_ROOT / ".venv" / "bin" / "jupyter").exists():
        pytest.skip("no .venv: run make setup")
    port = _port()
    server = subprocess.Popen(
        [
            *command,
            "--no-browser",
            "--allow-root",
            f"--port={port}",
            "--ServerApp.token=t",
        ],
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/lab/api/settings/"
        for _ in range(240):
            try:
                with urllib.request.urlopen(url + "@jupyterlab/docmanager-extension:plugin?token=t", timeout=2) as r:
                    docmanager = json.load(r)
                break
            except OSError:
                assert server.poll() is None, server.stderr.read()[-2000:]
                time.sleep(0.25)
        else:
            raise AssertionError("JupyterLab did not answer")
        # the served schema's default is the project's: a double-click opens a .py file with Jupytext's notebook
        assert docmanager["schema"]["properties"]["defaultViewers"]["default"]["python"] == "Jupytext Notebook"
        with urllib.request.urlopen(url + "@jupyterlab/apputils-extension:notification?token=t", timeout=5) as r:
            notification = json.load(r)["schema"]["properties"]
        assert notification["fetchNews"]["default"] == "false" and notification["checkForUpdates"]["default"] is False
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/api/contents/notebooks/01_selection.py?token=t&type=notebook", timeout=10
        ) as r:
            assert json.load(r)["type"] == "notebook"  # jupytext serves the script as a notebook
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert "--FileContentsManager.preferred_dir=notebooks" in command  # the file browser starts in notebooks/
