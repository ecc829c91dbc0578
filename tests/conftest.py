"""Shared test setup: no network, a per-session model cache, a per-test outputs folder, tiny params.

The environment is set before any ``helpers`` module is imported, so subprocesses started by tests
(``python -m helpers...``, ``accelerate launch``) inherit it: the hub is never asked, and the tiny
random-weight models are built once per session in a temporary cache.
"""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
_SESSION_CACHE = None
if "IMITATION_AUDIT_CACHE" not in os.environ:
    _SESSION_CACHE = tempfile.mkdtemp(prefix="imitation-audit-cache-")
    os.environ["IMITATION_AUDIT_CACHE"] = _SESSION_CACHE


def pytest_sessionfinish(session, exitstatus):
    if _SESSION_CACHE and not hasattr(session.config, "workerinput"):  # the xdist controller or a plain run
        shutil.rmtree(_SESSION_CACHE, ignore_errors=True)


def _tiny_dict(run: str = "tiny", **overrides) -> dict:
    """A params mapping for the tiny random-weight models: 64 px, 2 steps, 2 images per name, CPU."""
    data = {
        "run": run,
        "seed": 0,
        "artists": {"file": "params/artists.csv", "limit": 2},
        "generation": {
            "generators": [{"name": "tiny-sd", "source": "tiny", "model": "tiny-sd"}],
            "templates": ["Artwork from {artist}"],
            "images_per_name": 2,
            "height": 64,
            "width": 64,
            "steps": 2,
            "batch_size": 3,
            "device": "cpu",
            "dtype": "float32",
            "cpu_threads": 1,
            "channels_last": False,
        },
        "encoding": {
            "encoders": [{"name": "tiny-clip", "source": "tiny", "model": "tiny-clip", "pretrained": None}],
            "batch_size": 8,
            "num_workers": 0,
            "device": "cpu",
            "dtype": "float32",
        },
        "validation": {"real_works_dir": None, "standin": True, "standin_per_artist": 2, "max_works": 2},
    }
    for dotted, value in overrides.items():
        node = data
        *parents, leaf = dotted.split("__")
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    return data


def module_env(outputs, **extra) -> dict:
    """The environment of a ``python -m helpers...`` subprocess writing into ``outputs``: offline, and not
    under a lock some runner of this test process holds."""
    env = {**os.environ, "IMITATION_AUDIT_OUTPUTS": str(outputs), "HF_HUB_OFFLINE": "1", **extra}
    env.pop("IMITATION_AUDIT_LOCK", None)
    return env


def run_module(args, outputs, *, timeout=600, **extra) -> subprocess.CompletedProcess:
    """``python -m <args>`` from the project root into ``outputs`` (see :func:`module_env`; ``extra``: more
    environment variables), its output captured."""
    from helpers.paths import PROJECT_ROOT

    return subprocess.run(
        [sys.executable, "-m", *args],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env=module_env(outputs, **extra),
        timeout=timeout,
    )


@pytest.fixture
def outputs_dir(tmp_path, monkeypatch) -> Path:
    """A fresh outputs folder for this test, seen by in-process code and by subprocesses alike."""
    from helpers import paths

    out = tmp_path / "outputs"
    out.mkdir()
    monkeypatch.setattr(paths, "OUTPUTS_DIR", out)
    monkeypatch.setenv("IMITATION_AUDIT_OUTPUTS", str(out))
    return out


@pytest.fixture
def hub_calls(monkeypatch):
    """Counts the hub's file-listing calls and every network connection attempt (DNS lookups)."""
    import socket

    import huggingface_hub

    calls = {"model_info": 0, "getaddrinfo": 0}
    real_info, real_lookup = huggingface_hub.HfApi.model_info, socket.getaddrinfo

    def model_info(self, *args, **kwargs):
        calls["model_info"] += 1
        return real_info(self, *args, **kwargs)

    def getaddrinfo(*args, **kwargs):
        calls["getaddrinfo"] += 1
        return real_lookup(*args, **kwargs)

    monkeypatch.setattr(huggingface_hub.HfApi, "model_info", model_info)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return calls


@pytest.fixture
def tiny_dict():
    """Factory: ``tiny_dict(run="x", generation__steps=3)`` → a params mapping for the tiny models
    (double underscores reach into sections)."""
    return _tiny_dict


@pytest.fixture
def tiny_params(outputs_dir):
    """Factory like :func:`tiny_dict`, returning validated Params whose run folder is in ``outputs_dir``."""
    from helpers import schema

    def make(run: str = "tiny", **overrides):
        return schema.load(_tiny_dict(run, **overrides))

    return make


@pytest.fixture
def write_names():
    """``write_names(paths, artists, random_names)``: the two name tables stage 01 writes into a run."""

    def write(paths, artists, random_names) -> None:
        import pandas as pd

        from helpers.names import slug

        paths.root.mkdir(parents=True, exist_ok=True)
        # as stage 01 writes it (selection.ARTIST_COLUMNS): the count empty, as without caption metadata
        table = pd.DataFrame({"artist": list(artists), "slug": [slug(a) for a in artists], "caption_count": ""})
        table.to_csv(paths.artists_csv, index=False)
        pd.DataFrame({"name": list(random_names)}).to_csv(paths.random_names_csv, index=False)

    return write
