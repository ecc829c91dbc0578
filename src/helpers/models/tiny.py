"""Tiny random-weight models for tests and the smoke profile, built from the configs in ``configs/*.json``.

A tiny model is built once (a fixed seed: ``"seed"`` in its config, else 0), saved under ``CACHE_DIR/tiny/`` in the layout users use for real
models — a diffusers pipeline folder, an open_clip ``local-dir:`` folder, a transformers ``save_pretrained``
folder, a CSD checkpoint — and then loaded through the same code path as a user's model. An encoder's config
names its ``"loader"``: ``open_clip`` (when absent), ``transformers`` or ``csd``. Adding a tiny model is
adding a JSON file.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from .. import paths as _paths
from ..errors import AuditError
from ..files import json_digest

__all__ = [
    "tiny_configs",
    "tiny_dir",
    "tiny_generator_dir",
    "tiny_encoder_dir",
    "tiny_loader",
    "clip_tokenizer",
    "CSD_FILE",
]

_CONFIGS = Path(__file__).with_name("configs")
_RECIPE = 3  # bump when the builders below change, so cached folders are rebuilt
CSD_FILE = "checkpoint.pth"
"""The file name of a tiny CSD checkpoint in its folder (CSD's training script writes ``checkpoint.pth``)."""


@cache
def tiny_configs() -> dict[str, dict[str, Any]]:
    """Every tiny model's config, by name (the file name without ``.json``)."""
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(_CONFIGS.glob("*.json"))}


def _config(kind: str, model: str, index: int | None = None) -> dict[str, Any]:
    found = {n: c for n, c in tiny_configs().items() if c["kind"] == kind}
    if model not in found:
        key = "generation.generators" if kind == "generator" else "encoding.encoders"
        raise AuditError(
            f"unknown tiny {kind} model {model!r}",
            where=f"{key}[{'' if index is None else index}].model",
            fix=f"use one of {sorted(found)}",
        )
    return found[model]


def tiny_dir(kind: str, model: str, *, index: int | None = None) -> Path:
    """Where the tiny ``model`` of ``kind`` (``generator`` or ``encoder``) is saved once built (``index``: the
    entry's position in its list, for the error of an unknown name)."""
    return _paths.TINY_CACHE / f"{model}-{json_digest({'recipe': _RECIPE, 'config': _config(kind, model, index)}, 12)}"


def tiny_loader(model: str, *, index: int | None = None) -> str:
    """The loader that reads the tiny encoder ``model``: ``open_clip``, ``transformers`` or ``csd``."""
    return _config("encoder", model, index).get("loader", "open_clip")


def _build_once(final: Path, build: Callable[[Path], None]) -> Path:
    """Build a folder at ``final`` once: into a temporary sibling, then renamed (other processes racing to
    build the same folder either win the rename or throw their copy away)."""
    if (final / ".complete").is_file():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{final.name}-", dir=final.parent))
    try:
        os.chmod(tmp, 0o755)
        build(tmp)
        (tmp / ".complete").write_text("ok\n")
        if final.exists() and not (final / ".complete").is_file():
            shutil.rmtree(final, ignore_errors=True)  # left half-built by a crash before the rename
        try:
            os.rename(tmp, final)
        except OSError:
            if not (final / ".complete").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def clip_tokenizer(folder: Path):
    """A transformers ``CLIPTokenizer`` equal to Stable Diffusion v1.5's, saved to ``folder`` and built from
    the BPE file bundled with open_clip (no download)."""
    from open_clip.tokenizer import SimpleTokenizer, default_bpe
    from transformers import CLIPTokenizer

    vocab = dict(SimpleTokenizer().encoder)
    vocab["<|startoftext|>"] = vocab.pop("<start_of_text>")
    vocab["<|endoftext|>"] = vocab.pop("<end_of_text>")
    merges = gzip.open(default_bpe()).read().decode("utf-8").split("\n")[1 : 49152 - 256 - 2 + 1]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n", encoding="utf-8")
    # Loading from a folder, not CLIPTokenizer(vocab_file=..., merges_file=...): in transformers 5 the latter
    # silently builds a broken tokenizer. local_files_only is explicit because the saved tokenizer_config.json
    # records it: left to HF_HUB_OFFLINE, the same training wrote different bytes online and offline.
    return CLIPTokenizer.from_pretrained(
        str(folder), model_max_length=77, pad_token="<|endoftext|>", local_files_only=True
    )


def _build_generator(cfg: dict[str, Any], out: Path) -> None:
    """A random-weight pipeline of class ``cfg["pipeline"]``: a UNet, a VAE, one CLIP text encoder per
    ``text_encoder*`` entry (the last one of an SDXL pipeline with its projection), each with the CLIP
    tokenizer, and the scheduler ``cfg["scheduler"]``."""
    import diffusers
    import torch
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    encoders = sorted(k for k in cfg if k.startswith("text_encoder"))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        parts: dict[str, Any] = {
            "unet": diffusers.UNet2DConditionModel(**cfg["unet"]),
            "vae": diffusers.AutoencoderKL(**cfg["vae"]),
        }
        for i, key in enumerate(encoders):
            model = CLIPTextModelWithProjection if i == 1 else CLIPTextModel  # SDXL's second encoder projects
            parts[key] = model(CLIPTextConfig(**cfg[key]))
    for key in encoders:
        parts[key.replace("text_encoder", "tokenizer")] = clip_tokenizer(out / f"_src_{key}")
    parts["scheduler"] = getattr(diffusers, cfg["scheduler"]["class"])(**cfg["scheduler"]["config"])
    pipeline = getattr(diffusers, cfg["pipeline"])
    if cfg["pipeline"] == "StableDiffusionPipeline":
        parts.update(safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    pipeline(**parts).save_pretrained(out, safe_serialization=True)
    for key in encoders:
        shutil.rmtree(out / f"_src_{key}")


def _build_encoder(cfg: dict[str, Any], out: Path) -> None:
    import open_clip
    import torch
    from safetensors.torch import save_file

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.get("seed", 0))
        clip = open_clip.model.CLIP(**cfg["model_cfg"])
    save_file({k: v.contiguous() for k, v in clip.state_dict().items()}, str(out / "open_clip_model.safetensors"))
    preprocess = {"mean": list(open_clip.OPENAI_DATASET_MEAN), "std": list(open_clip.OPENAI_DATASET_STD)}
    (out / "open_clip_config.json").write_text(
        json.dumps({"model_cfg": cfg["model_cfg"], "preprocess_cfg": preprocess}, indent=2), encoding="utf-8"
    )


def _build_transformers(cfg: dict[str, Any], out: Path) -> None:
    """A random-weight transformers model of ``cfg["model"]`` (its ``model_type`` and config), saved with
    ``save_pretrained`` (safetensors) beside its image processor and, for a model with a text tower, the
    tokenizer ``cfg["tokenizer"]``: ``clip``, the CLIP tokenizer from open_clip's bundled BPE (no download; a
    SigLIP's own SentencePiece or Gemma tokenizer would need one, and the loader pads whichever it finds)."""
    import torch
    import transformers

    model_cfg = dict(cfg["model"])
    config = transformers.AutoConfig.for_model(model_cfg.pop("model_type"), **model_cfg)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.get("seed", 0))
        model = transformers.AutoModel.from_config(config)
    model.save_pretrained(out)
    processor = cfg["image_processor"]
    getattr(transformers, processor["class"])(**processor["config"]).save_pretrained(out)
    if "tokenizer" in cfg:
        assert cfg["tokenizer"] == "clip", f"unknown tiny tokenizer {cfg['tokenizer']!r}"
        clip_tokenizer(out / "_src_tokenizer").save_pretrained(out)
        shutil.rmtree(out / "_src_tokenizer")


def _build_csd(cfg: dict[str, Any], out: Path) -> None:
    """A random-weight CSD of ``cfg["model"]`` saved as CSD's training script saves it: a pickle of
    ``{"model_state_dict": ..., "iter": ..., "args": Namespace}`` whose keys carry DistributedDataParallel's
    ``module.`` prefix. The style head starts from the backbone's projection, as CSD's does; the content head
    is drawn apart, so that the two differ."""
    import argparse

    import torch

    from .csd import CSD

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.get("seed", 0))
        model = CSD(**cfg["model"])
        content = torch.randn_like(model.last_layer_style) * cfg["model"]["width"] ** -0.5
    state = {f"module.{k}": v.contiguous() for k, v in model.state_dict().items()}
    state["module.last_layer_content"] = content
    args = argparse.Namespace(arch="tiny", content_proj_head="default", **cfg["model"])
    torch.save({"model_state_dict": state, "iter": 0, "args": args}, out / CSD_FILE)


def tiny_generator_dir(model: str) -> Path:
    """The saved pipeline folder of a tiny generator, built on first use (deterministic: fixed seed)."""
    cfg = _config("generator", model)
    return _build_once(tiny_dir("generator", model), lambda tmp: _build_generator(cfg, tmp))


def tiny_encoder_dir(model: str) -> Path:
    """The saved folder of a tiny encoder (an open_clip ``local-dir:`` folder, a transformers folder, or a
    folder holding :data:`CSD_FILE`), built on first use (deterministic: fixed seed)."""
    cfg = _config("encoder", model)
    builders = {"open_clip": _build_encoder, "transformers": _build_transformers, "csd": _build_csd}
    build = builders[cfg.get("loader", "open_clip")]
    return _build_once(tiny_dir("encoder", model), lambda tmp: build(cfg, tmp))
