"""``models/toy-world/MANIFEST.json``: what was trained, how, how long, and the digest of every file.

The manifest records the exact command and seed, the torch thread count, the measured training time of
each model and in all, the package versions, the corpus digest, and the SHA-256 and size of every file
under the models folder — so anyone can check that the weights in git are the ones the command made, and
that a regenerated corpus is the data they were trained on.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..errors import AuditError
from ..files import package_versions, sha256_file
from ..paths import PROJECT_ROOT

__all__ = [
    "MODELS_DIR",
    "MANIFEST",
    "file_table",
    "versions",
    "write_manifest",
    "read_manifest",
    "verify_files",
    "write_provenance",
]

MODELS_DIR = PROJECT_ROOT / "models" / "toy-world"
MANIFEST = "MANIFEST.json"


def file_table(root: str | os.PathLike) -> dict[str, dict[str, Any]]:
    """``{relative path: {"sha256", "bytes"}}`` for every file under ``root`` except the manifest."""
    root = Path(root)
    return {
        p.relative_to(root).as_posix(): {"sha256": sha256_file(p), "bytes": p.stat().st_size}
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    }


def write_provenance(folder: str | os.PathLike) -> None:
    """Mark a saved model folder as trained on the toy world (:data:`helpers.models.PROVENANCE_FILE`): every
    run that uses it then says TOY WORLD in its tables, figures, summary and report."""
    from ..models import PROVENANCE_FILE

    record = {
        "weights": "toy",
        "note": "trained here on the toy world (fictional artists, a procedural corpus) "
        "by python -m helpers.toyworld train; see models/toy-world/MANIFEST.json",
    }
    (Path(folder) / PROVENANCE_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


def versions() -> dict[str, str | None]:
    """Versions of the packages that shape the weights."""
    import platform

    names = ("torch", "diffusers", "transformers", "open_clip_torch", "numpy", "pillow", "pyarrow", "safetensors")
    return {"python": platform.python_version(), **package_versions(names)}


def write_manifest(root: str | os.PathLike, record: dict[str, Any]) -> dict[str, Any]:
    """Add the file table of ``root`` to ``record`` and write it as ``root/MANIFEST.json``."""
    root = Path(root)
    files = file_table(root)
    record = {
        **record,
        "files": files,
        "weights_bytes": sum(f["bytes"] for n, f in files.items() if n.endswith(".safetensors")),
    }
    (root / MANIFEST).write_text(json.dumps(record, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return record


def read_manifest(root: str | os.PathLike = MODELS_DIR) -> dict[str, Any]:
    """The manifest of the models folder ``root``."""
    path = Path(root) / MANIFEST
    if not path.is_file():
        raise AuditError(
            f"{path} does not exist",
            where="helpers.toyworld",
            fix="train the toy world with 'python -m helpers.toyworld train --seed 0'",
        )
    return json.loads(path.read_text(encoding="utf-8"))


def verify_files(root: str | os.PathLike = MODELS_DIR) -> list[str]:
    """Problems with the files under ``root`` against its manifest: missing, changed, or not listed."""
    root = Path(root)
    listed = read_manifest(root)["files"]
    present = file_table(root)
    problems = [f"{name}: missing" for name in listed if name not in present]
    problems += [f"{name}: not in the manifest" for name in present if name not in listed]
    problems += [
        f"{name}: sha256 differs"
        for name, entry in listed.items()
        if name in present and present[name]["sha256"] != entry["sha256"]
    ]
    return problems
