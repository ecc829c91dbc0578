"""Hugging Face ``transformers`` encoders — DINOv2, CLIP, SigLIP and SigLIP 2 — by hub id or ``save_pretrained``
folder, each with the model's own image processor (and, for zero-shot, its own tokenizer).

What each family's embedding is (transformers 5, where ``get_*_features`` return an output whose
``pooler_output`` is the embedding):

- DINOv2 (``model_type`` ``dinov2``, ``dinov2_with_registers``): ``pooler_output`` of ``Dinov2Model``, the class
  token after the final layernorm (``sequence_output[:, 0]`` of ``self.layernorm(...)`` in its ``forward``).
  Image only.
- CLIP (``clip``): ``get_image_features`` / ``get_text_features``, the pooled outputs through the projections.
- SigLIP (``siglip``; SigLIP 2's fixed-resolution checkpoints publish this type too) and SigLIP 2 NaFlex
  (``siglip2``): ``get_image_features`` / ``get_text_features``. Text is padded to ``max_length`` (the
  position-embedding length) and given without an attention mask: the text tower pools the last position and
  was trained on text padded so, pads attending (big_vision's text encoder takes no mask; transformers'
  SigLIP documentation insists on ``padding="max_length"``, and its 4.x SigLIP tokenizer gave input ids only).

A hub id is fetched at ``revision`` with ``huggingface_hub.snapshot_download`` — the safetensors weights and the
small config and tokenizer files only (pickle ``.bin`` weights only with ``allow_pickle``) — and then loaded
from that snapshot exactly like a folder. Remote code is never trusted (transformers' default, never overridden). The cache key is the hub id and the
snapshot's commit, or for a folder a digest of its files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import AuditError
from ..files import json_digest, sha256_file
from ..paths import resolve_path
from ..schema import EncoderSpec
from .policy import PICKLE_SUFFIXES, hub_error, pickle_error, saved_weights, warn_pickle

__all__ = ["FAMILIES", "folder_of", "load", "check"]

FAMILIES = {"dinov2": False, "dinov2_with_registers": False, "clip": True, "siglip": True, "siglip2": True}
"""The ``model_type``s this module loads, each with whether it has a text tower."""
_MAX_LENGTH_PADDING = ("siglip", "siglip2")
_SMALL_FILES = (".json", ".txt", ".model")  # configs, processor, tokenizer (vocab, merges, SentencePiece)
_HUB_FILES = ["*.json", "*.txt", "*.model", "model.safetensors", "model-*-of-*.safetensors"]
_HUB_PICKLES = ["pytorch_model.bin", "pytorch_model-*-of-*.bin"]


def folder_of(spec: EncoderSpec) -> Path | None:
    """The folder ``spec.model`` names, or ``None`` for a hub id. A value that exists on disk, or that cannot
    be a hub id (``./x``, ``/x``, ``~/x``, ``a/b/c``), is a folder."""
    path = resolve_path(spec.model)
    if path.exists() or spec.model.startswith((".", "/", "~")) or spec.model.count("/") > 1:
        return path
    return None


def _weights(folder: Path, spec: EncoderSpec, where: str) -> list[Path]:
    """The weights files of a saved folder, safetensors first (pickle only if allowed)."""
    how = (
        "save the model there with model.save_pretrained(folder) and processor.save_pretrained(folder), "
        "or give a hub id"
    )
    return saved_weights(folder, config="config.json", allow_pickle=spec.allow_pickle, where=where, how=how)


def _family(config: dict[str, Any], spec: EncoderSpec, where: str) -> str:
    """The model's family, refused when this module cannot load it or when it is image-only and asked to
    classify zero-shot (known only now: the params named no image-only family)."""
    family = config.get("model_type")
    if family not in FAMILIES:
        raise AuditError(
            f"the transformers encoder {spec.model!r} is a {family!r} model; this version loads {', '.join(FAMILIES)}",
            where=f"{where}.model",
            fix="use a model of one of these families, or an open_clip encoder",
        )
    if spec.resolved_method == "zero-shot" and not FAMILIES[family]:
        raise AuditError(
            f"encoder {spec.name!r} ({spec.model}) is a {family} model: image-only, it cannot classify "
            "zero-shot among label prompts",
            where=f"{where}.method",
            fix="set method: reference",
        )
    return family


def _snapshot(spec: EncoderSpec, where: str) -> Path:
    """The local snapshot of a hub model at ``spec.revision``, downloaded when missing (weights: safetensors,
    or also pickle ``.bin`` files when allowed)."""
    from huggingface_hub import snapshot_download

    patterns = _HUB_FILES + (_HUB_PICKLES if spec.allow_pickle else [])
    try:
        return Path(snapshot_download(spec.model, revision=spec.revision, allow_patterns=patterns))
    except Exception as exc:  # huggingface_hub raises many kinds for the same causes
        raise hub_error(spec.model, spec.revision, exc, what="encoder", where=where) from None


class _Pixels:
    """The model's own image processor on one image: a ``[3, H, W]`` tensor, or (SigLIP 2 NaFlex) the dict of
    its patches, their mask and the grid's shape, which the encoding loader stacks key by key."""

    def __init__(self, processor):
        self.processor = processor

    def __call__(self, image):
        out = self.processor(images=image, return_tensors="pt")
        return out["pixel_values"][0] if set(out) == {"pixel_values"} else {k: v[0] for k, v in out.items()}


class _Tokens:
    """The model's own tokenizer with the padding its text tower was trained with; ``keys``: what of the
    tokenizer's output the text tower is given."""

    def __init__(self, tokenizer, padding: str | bool, max_length: int, keys: tuple[str, ...]):
        self.tokenizer, self.padding, self.max_length, self.keys = tokenizer, padding, max_length, keys

    def __call__(self, texts):
        out = self.tokenizer(
            list(texts), padding=self.padding, truncation=True, max_length=self.max_length, return_tensors="pt"
        )
        return {k: out[k] for k in self.keys if k in out}


def _pooled(out):
    import torch

    return out if torch.is_tensor(out) else out.pooler_output


def _forwards(model, family: str):
    """``(image, text)`` forward passes of a loaded model (``text`` is ``None`` for an image-only family)."""

    def dinov2(pixels):
        return model(pixel_values=pixels).pooler_output

    def image(pixels):
        # SigLIP 2 NaFlex takes its processor's dict: patches, their mask, the grid's shape
        if family == "siglip2":
            return _pooled(model.get_image_features(**pixels))
        return _pooled(model.get_image_features(pixel_values=pixels))

    def text(tokens):
        return _pooled(model.get_text_features(**tokens))

    return (dinov2, None) if family.startswith("dinov2") else (image, text)


def load(spec: EncoderSpec, folder: Path | None, device, where: str) -> dict[str, Any]:
    """The fields of the :class:`~helpers.models.encoders.Encoder` of the folder ``folder`` (``None``: the hub
    id ``spec.model`` at ``spec.revision``), in eval mode on ``device``. Its tokenizer is loaded for zero-shot
    only (attribution by reference works encodes no text)."""
    import torch
    import transformers

    transformers.utils.logging.disable_progress_bar()  # its per-file loading bars; the stage shows its own
    if folder is None:
        folder = _snapshot(spec, where)
        weights, ident = _weights(folder, spec, where), f"transformers:{spec.model}@{folder.name}"
    else:
        weights = _weights(folder, spec, where)
        small = [p for p in folder.iterdir() if p.is_file() and p.suffix in _SMALL_FILES]
        ident = f"{spec.source}:{json_digest([(p.name, sha256_file(p)) for p in sorted(set(weights + small))], 16)}"
    family = _family(json.loads((folder / "config.json").read_text(encoding="utf-8")), spec, where)
    if weights[0].suffix != ".safetensors":
        warn_pickle(f"encoder {spec.model}")
    common: dict[str, Any] = {"local_files_only": True}  # and remote code never trusted: transformers' default
    text = FAMILIES[family] and spec.resolved_method == "zero-shot"
    try:
        model = transformers.AutoModel.from_pretrained(
            folder, use_safetensors=None if spec.allow_pickle else True, dtype=torch.float32, **common
        )
        processor = transformers.AutoImageProcessor.from_pretrained(folder, **common)
        tokenizer = transformers.AutoTokenizer.from_pretrained(folder, **common) if text else None
    except Exception as exc:  # transformers raises OSError, ValueError, ImportError... for the same causes
        raise AuditError(
            f"could not load the transformers encoder {spec.model!r} from {folder}: {' '.join(str(exc).split())[:300]}",
            where=where,
            fix="save the model and its image processor (and tokenizer) with save_pretrained; a "
            "SigLIP tokenizer needs the sentencepiece package",
        ) from None
    if text and tokenizer is None:
        raise AuditError(
            f"the transformers encoder {spec.model!r} has no tokenizer in {folder}",
            where=where,
            fix="save its tokenizer beside it, or set method: reference",
        )
    model = model.to(device).eval()
    image, text_forward = _forwards(model, family)
    tokens = None
    if text:
        padded = family in _MAX_LENGTH_PADDING
        tokens = _Tokens(
            tokenizer,
            "max_length" if padded else True,
            model.config.text_config.max_position_embeddings,
            ("input_ids",) if padded else ("input_ids", "attention_mask"),
        )
    return {
        "model": model,
        "preprocess": _Pixels(processor),
        "tokenizer": tokens,
        "image_forward": image,
        "text_forward": text_forward if text else None,
        "key": ident,
        "checkpoint": str(folder),
    }


def check(spec: EncoderSpec, folder: Path | None, where: str) -> None:
    """Preflight, downloading nothing: a folder holds a config and weights of a family this module loads; a
    hub id's weights are in the local Hugging Face cache or listed by the hub (one call, 10 s at most)."""
    if folder is not None:
        _weights(folder, spec, where)
        _family(json.loads((folder / "config.json").read_text(encoding="utf-8")), spec, where)
        return
    from huggingface_hub import HfApi, try_to_load_from_cache

    repo, revision = spec.model, spec.revision
    config, *weights = (
        try_to_load_from_cache(repo, name, revision=revision)
        for name in ("config.json", "model.safetensors", "model.safetensors.index.json")
    )
    if isinstance(config, str) and any(isinstance(w, str) for w in weights):
        _family(json.loads(Path(config).read_text(encoding="utf-8")), spec, where)
        return
    try:
        info = HfApi().model_info(repo, revision=revision, timeout=10)
    except Exception as exc:
        raise hub_error(repo, revision, exc, what="encoder", where=where) from None
    top = [s.rfilename for s in (info.siblings or []) if "/" not in s.rfilename]
    if any(f.endswith(".safetensors") for f in top):
        return
    if any(f.endswith(PICKLE_SUFFIXES) for f in top):
        if spec.allow_pickle:
            return
        raise pickle_error(f"of {repo} (published as pickle files only)", what="encoder", where=where)
    raise AuditError(f"the hub repo {repo!r} holds no weights at its top level", where=f"{where}.model")
