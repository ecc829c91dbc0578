"""What a run's models are: preflight (can each be had?), the description recorded in ``run.json``, and
the kind of their weights (``pretrained``, ``random`` or ``toy``), which every output states."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from ..paths import resolve_path
from ..schema import EncoderSpec, GeneratorSpec, Params
from .encoders import check_encoder
from .generators import check_generator
from .tiny import tiny_configs, tiny_dir

__all__ = ["preflight", "describe", "weights_kind", "combined_weights", "PROVENANCE_FILE", "Weights"]

Weights = Literal["pretrained", "random", "toy"]
PROVENANCE_FILE = "imitation_audit.json"
"""A file a local model folder may hold, e.g. ``{"weights": "toy", "note": "..."}``: models trained on the
toy world say so, and every output of a run that uses them says so too."""


def preflight(params: Params) -> None:
    """Check that every model of the run can be had (cached locally, or reachable to download).

    Fails within seconds, with one line naming the model and the ways forward; downloads nothing.
    """
    for i, spec in enumerate(params.generation.generators):
        check_generator(spec, params.generation, index=i)
    for i, spec in enumerate(params.encoding.encoders):
        check_encoder(spec, index=i)


def _provenance(folder: Path | None) -> dict[str, Any]:
    marker = folder / PROVENANCE_FILE if folder is not None else None
    if marker is None or not marker.is_file():
        return {}
    try:
        return json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _folder(spec: GeneratorSpec | EncoderSpec) -> Path | None:
    if spec.source == "tiny":
        return tiny_dir("generator" if isinstance(spec, GeneratorSpec) else "encoder", spec.model)
    if spec.source == "transformers":
        from .hf_encoders import folder_of

        return folder_of(spec)
    return resolve_path(spec.model) if spec.source == "local" else None


def weights_kind(spec: GeneratorSpec | EncoderSpec) -> Weights:
    """``random`` (tiny builds, open_clip without a tag), ``toy`` (a local folder whose provenance file says
    so), else ``pretrained``."""
    if spec.random_weights:
        return "random"
    return "toy" if _provenance(_folder(spec)).get("weights") == "toy" else "pretrained"


def combined_weights(kinds: Iterable[Weights]) -> Weights:
    """The kind of a set of models' weights: ``random`` if any is random, else ``toy`` if any is a toy
    model, else ``pretrained`` — what a run (or a configuration) says it measured."""
    kinds = set(kinds)
    return "random" if "random" in kinds else "toy" if "toy" in kinds else "pretrained"


def _generator(spec: GeneratorSpec, scheduler: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": spec.name,
        "source": spec.source,
        "model": spec.model,
        "revision": spec.revision,
        "allow_pickle": spec.allow_pickle,
        "scheduler": scheduler,
        "weights": weights_kind(spec),
    }
    if spec.source == "tiny":
        out["path"], out["config"] = str(_folder(spec)), tiny_configs().get(spec.model)
    elif spec.source == "local":
        out["path"] = str(_folder(spec))
    elif spec.external:
        out.update(
            model=None,
            scheduler=None,
            path=str(resolve_path(spec.path)),
            seeds="unknown",
            note="images made elsewhere by an external model: prompts, seeds and settings as the folder says",
        )
    else:
        out["commit"], out["path"] = _cached_snapshot(spec.model, spec.revision, "model_index.json")
    return out


def _encoder(spec: EncoderSpec) -> dict[str, Any]:
    open_clip_tag = spec.source in ("open_clip", "local", "tiny")
    out: dict[str, Any] = {
        "name": spec.name,
        "source": spec.source,
        "model": spec.model,
        "pretrained": spec.pretrained if open_clip_tag else None,
        "method": spec.resolved_method,
        "allow_pickle": spec.allow_pickle,
        "weights": weights_kind(spec),
    }
    if spec.source == "tiny":
        out["path"], out["config"] = str(_folder(spec)), tiny_configs().get(spec.model)
    elif spec.source == "local":
        out["path"] = str(_folder(spec))
    elif spec.source == "csd":
        out["path"] = str(resolve_path(spec.model))
    elif spec.source == "transformers":
        folder = _folder(spec)
        out["revision"] = spec.revision
        if folder is not None:
            out["path"] = str(folder)
        else:
            out["commit"], out["path"] = _cached_snapshot(spec.model, spec.revision, "config.json")
    elif spec.pretrained is not None:
        try:
            import open_clip

            cfg = open_clip.get_pretrained_cfg(spec.model, spec.pretrained) or {}
        except Exception:  # pragma: no cover - describe never fails a run
            cfg = {}
        out["hf_hub"] = cfg.get("hf_hub") or None
        out["quick_gelu"] = bool(cfg.get("quick_gelu"))
    return out


def describe(params: Params) -> dict[str, Any]:
    """Resolved model ids, revisions and local folders, for ``run.json``. Reads caches only, never the network.

    ``generator`` and ``encoder`` describe the first of each; ``generators`` and ``encoders`` list all."""
    gens = [_generator(s, params.generation.scheduler) for s in params.generation.generators]
    encs = [_encoder(s) for s in params.encoding.encoders]
    weights = combined_weights(d["weights"] for d in gens + encs)
    return {"generator": gens[0], "encoder": encs[0], "generators": gens, "encoders": encs, "weights": weights}


def _cached_snapshot(repo: str, revision: str | None, file: str) -> tuple[str | None, str | None]:
    """The commit and local folder of a hub model's cached snapshot holding ``file`` (``None``s if not cached)."""
    try:
        from huggingface_hub import snapshot_download

        path = snapshot_download(repo, revision=revision, local_files_only=True, allow_patterns=[file])
    except Exception:
        return None, None
    return Path(path).name, path
