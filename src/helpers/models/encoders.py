"""The encoder: an open_clip CLIP (an architecture with a pretrained tag, or a saved ``local-dir:`` folder), a
Hugging Face ``transformers`` model (:mod:`.hf_encoders`: DINOv2, CLIP, SigLIP, SigLIP 2) or CSD's style
descriptor (:mod:`.csd`), all served through one :class:`Encoder`. A tiny random build is saved in its
family's layout and loaded like a user's model of that family.

Finding a tag's weights is open_clip's own lookup (``download_pretrained``, safetensors first); this module
adds the safetensors-only policy and, for preflight, a check that downloads nothing.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import AuditError
from ..files import sha256_file
from ..paths import resolve_path
from ..schema import EncoderSpec
from .devices import resolve_device
from .policy import FIX_FETCH, hub_error, pickle_error, reason, saved_weights, warn_pickle
from .tiny import CSD_FILE, tiny_dir, tiny_encoder_dir, tiny_loader

__all__ = ["Encoder", "load_encoder", "check_encoder"]


@dataclass
class Encoder:
    """A model ready to embed: eval mode, its preprocess transform and, when it encodes text, its tokenizer.

    ``image_forward`` and ``text_forward`` are the two towers' forward passes on a batch already on the
    device (``text_forward`` and ``tokenizer`` are ``None`` for an image-only descriptor, or for a model whose
    text tower attribution by reference works does not use). ``key`` identifies the weights and the compute
    precision, for embedding caches; ``autocast`` is the dtype of the autocast region the forward runs in
    (``None``: plain float32).
    """

    spec: EncoderSpec
    model: Any
    preprocess: Callable
    tokenizer: Callable | None
    key: str
    dim: int
    device: Any
    image_forward: Callable
    text_forward: Callable | None
    autocast: Any = None
    checkpoint: str | None = None

    @property
    def text(self) -> bool:
        """True when this encoder embeds text (label prompts, for zero-shot)."""
        return self.text_forward is not None

    def _ctx(self):
        import torch

        if self.autocast is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.autocast)

    def encode_pixels(self, pixels):
        """L2-normalised float32 image embeddings (on the CPU) of a preprocessed batch."""
        import torch

        with torch.inference_mode(), self._ctx():
            out = self.image_forward(_to(pixels, self.device))
        return torch.nn.functional.normalize(out.float(), dim=-1).cpu()

    def encode_tokens(self, tokens):
        """L2-normalised float32 text embeddings (on the CPU) of a tokenized batch."""
        import torch

        assert self.text_forward is not None, f"encoder {self.spec.name} embeds no text"
        with torch.inference_mode(), self._ctx():
            out = self.text_forward(_to(tokens, self.device))
        return torch.nn.functional.normalize(out.float(), dim=-1).cpu()


def _to(batch, device):
    """A batch (a tensor, or a mapping of tensors as transformers' processors give) on ``device``."""
    if hasattr(batch, "to"):
        return batch.to(device, non_blocking=True)
    return {k: v.to(device, non_blocking=True) for k, v in batch.items()}


def _tag(spec: EncoderSpec, where: str) -> dict[str, Any] | None:
    """The pretrained config of ``spec``'s tag (``None`` for random weights), after checking that the
    architecture and the tag exist."""
    import open_clip

    models = open_clip.list_models()
    if spec.model not in models:
        raise AuditError(
            f"unknown open_clip architecture {spec.model!r}",
            where=f"{where}.model",
            fix=f"use one of: {', '.join(models)}",
        )
    if spec.pretrained is None:
        return None
    if resolve_path(spec.pretrained).is_file():
        return {"file": str(resolve_path(spec.pretrained))}
    cfg = open_clip.get_pretrained_cfg(spec.model, spec.pretrained)
    if not cfg:
        tags = open_clip.list_pretrained_tags_by_model(spec.model)
        raise AuditError(
            f"open_clip has no pretrained tag {spec.pretrained!r} for {spec.model}",
            where=f"{where}.pretrained",
            fix=f"use one of: {', '.join(tags) if tags else '(none: set pretrained: null for random weights)'}",
        )
    return cfg


def _hub_files(cfg: dict[str, Any]) -> tuple[str, list[str], str] | None:
    """``(repo, safetensors names, pickle name)`` of a tag hosted on the hub (as open_clip looks them up);
    ``None`` for a tag published as a URL only (a pickle checkpoint)."""
    from open_clip.constants import HF_SAFE_WEIGHTS_NAME, HF_WEIGHTS_NAME

    if not cfg.get("hf_hub"):
        return None
    repo, filename = os.path.split(cfg["hf_hub"])
    filename = filename or HF_WEIGHTS_NAME
    if filename.endswith(".safetensors"):
        return repo, [filename], ""
    safe = HF_SAFE_WEIGHTS_NAME if filename == HF_WEIGHTS_NAME else filename.rsplit(".", 1)[0] + ".safetensors"
    return repo, [safe], filename


def _fetch_error(spec: EncoderSpec, detail: str, where: str) -> AuditError:
    return AuditError(
        f"could not fetch the open_clip encoder {spec.model} pretrained={spec.pretrained!r}: not in the local "
        f"cache and not reachable ({detail})",
        where=where,
        fix=FIX_FETCH,
    )


def _tag_weights(spec: EncoderSpec, cfg: dict[str, Any], where: str) -> str:
    """The local weights file of a tag, downloaded by open_clip when missing; pickle only if allowed."""
    import open_clip

    what = f"encoder {spec.model}/{spec.pretrained}"
    if _hub_files(cfg) is None and "file" not in cfg and not spec.allow_pickle:
        raise pickle_error(f"of {spec.model}/{spec.pretrained} (published as a URL only)", what="encoder", where=where)
    try:
        path = str(open_clip.download_pretrained(cfg))
    except Exception as exc:  # open_clip raises RuntimeError, FileNotFoundError, OSError...
        raise _fetch_error(spec, reason(exc), where) from None
    if not path.endswith(".safetensors"):
        if not spec.allow_pickle:
            raise pickle_error(path, what="encoder", where=where)
        warn_pickle(what)
    return path


def _local_weights(folder: Path, spec: EncoderSpec, where: str) -> Path:
    """The weights file of a ``local-dir:`` encoder folder, safetensors first (pickle only if allowed)."""
    files = saved_weights(
        folder,
        config="open_clip_config.json",
        allow_pickle=spec.allow_pickle,
        where=where,
        how="save the model there in open_clip's hub layout: open_clip_config.json and open_clip_model.safetensors",
    )
    if files[0].suffix != ".safetensors":
        warn_pickle(f"encoder {folder}")
        return files[0]
    return next((p for p in files if p.name == "open_clip_model.safetensors"), files[0])


def _loader(spec: EncoderSpec, index: int) -> str:
    """Which loader reads ``spec``: ``open_clip``, ``transformers`` or ``csd`` (a tiny model: its config's)."""
    if spec.source == "tiny":
        return tiny_loader(spec.model, index=index)
    return {"transformers": "transformers", "csd": "csd"}.get(spec.source, "open_clip")


def _precision(autocast) -> str:
    return "float32" if autocast is None else str(autocast).removeprefix("torch.")


def load_encoder(spec: EncoderSpec, *, device: str = "auto", dtype: str = "auto", index: int = 0) -> Encoder:
    """The encoder of ``spec`` in eval mode, with its preprocess transform and (when it embeds text) tokenizer.

    ``dtype`` sets the autocast precision of the forward pass (``auto``: float16 on CUDA, float32 on the
    CPU; ``bfloat16`` on the CPU only when asked). Weights stay float32. ``index`` is the entry's position in
    ``encoding.encoders``, which errors name.
    """
    import torch

    where = f"encoding.encoders[{index}]"
    dev, compute = resolve_device(device, dtype)
    autocast = None if compute == torch.float32 else compute
    loader = _loader(spec, index)
    if loader == "open_clip":
        return _open_clip(spec, dev, autocast, where)
    if loader == "transformers":
        from .hf_encoders import folder_of, load

        parts = load(spec, tiny_encoder_dir(spec.model) if spec.source == "tiny" else folder_of(spec), dev, where)
    else:
        from .csd import load

        path = tiny_encoder_dir(spec.model) / CSD_FILE if spec.source == "tiny" else resolve_path(spec.model)
        parts = load(spec, path, dev, where)
    parts["key"] = f"{parts['key']}|{_precision(autocast)}"
    enc = Encoder(spec=spec, dim=0, device=dev, autocast=autocast, **parts)
    enc.dim = _image_dim(enc)
    return enc


def _image_dim(enc: Encoder) -> int:
    """The embedding's length, from one forward pass of a blank image (an encoder may have no text tower)."""
    from PIL import Image
    from torch.utils.data import default_collate

    return int(enc.encode_pixels(default_collate([enc.preprocess(Image.new("RGB", (64, 64)))])).shape[-1])


def _open_clip(spec: EncoderSpec, dev, autocast, where: str) -> Encoder:
    import open_clip
    import torch

    kwargs: dict[str, Any] = {"device": dev, "precision": "fp32"}
    if spec.source in ("local", "tiny"):
        folder = tiny_encoder_dir(spec.model) if spec.source == "tiny" else resolve_path(spec.model)
        weights = _local_weights(folder, spec, where)
        name, ident = f"local-dir:{folder}", f"{spec.source}:{sha256_file(weights)[:16]}"
        checkpoint: str | None = str(weights)
    else:
        cfg = _tag(spec, where)
        # pretrained: null gives random weights, initialised from a fixed seed so the cache key holds.
        name, ident = spec.model, f"open_clip:{spec.model}:{spec.pretrained or 'random-seed0'}"
        checkpoint = None
        if cfg is not None:
            checkpoint = kwargs["pretrained"] = _tag_weights(spec, cfg, where)
            # open_clip 3 only warns when an architecture without QuickGELU meets weights trained with it
            # (the OpenAI tags of ViT-L-14 and others): the embeddings would silently be wrong.
            if cfg.get("quick_gelu") and not (open_clip.get_model_config(spec.model) or {}).get("quick_gelu"):
                kwargs["force_quick_gelu"] = True
            for key in ("mean", "std", "interpolation", "resize_mode"):  # as open_clip does for a tag
                if cfg.get(key) is not None:
                    kwargs[f"image_{key}"] = cfg[key]
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            model, _, preprocess = open_clip.create_model_and_transforms(name, **kwargs)
    except Exception as exc:
        raise AuditError(
            f"could not load encoder {spec.model!r}: {' '.join(str(exc).split())[:300]}", where=where
        ) from None
    model.eval()
    tokenizer = open_clip.get_tokenizer(name)
    enc = Encoder(
        spec=spec,
        model=model,
        preprocess=preprocess,
        tokenizer=tokenizer,
        key=f"{ident}|{_precision(autocast)}",
        dim=0,
        device=dev,
        image_forward=model.encode_image,
        text_forward=model.encode_text,
        autocast=autocast,
        checkpoint=checkpoint,
    )
    enc.dim = int(enc.encode_tokens(tokenizer([""])).shape[-1])
    return enc


def check_encoder(spec: EncoderSpec, *, index: int = 0) -> None:
    """Preflight: the encoder's weights are local, cached, or listed on the hub — downloading nothing.

    At most one network call (the hub's file listing), made only when the local cache lacks the weights.
    ``index`` is the entry's position in ``encoding.encoders``, which errors name."""
    where = f"encoding.encoders[{index}]"
    loader = _loader(spec, index)
    if spec.source == "tiny":
        tiny_dir("encoder", spec.model, index=index)  # an unknown tiny model fails here
        if loader == "csd" and not spec.allow_pickle:  # the tiny CSD is a pickle, as the published one
            raise pickle_error(f"of the tiny CSD {spec.model}", what="encoder", where=where)
        return
    if loader == "transformers":
        from .hf_encoders import check, folder_of

        check(spec, folder_of(spec), where)
    elif loader == "csd":
        from .csd import check

        check(spec, resolve_path(spec.model), where)
    elif spec.source == "local":
        _local_weights(resolve_path(spec.model), spec, where)
    else:
        _check_tag(spec, where)


def _check_tag(spec: EncoderSpec, where: str) -> None:
    cfg = _tag(spec, where)
    if cfg is None:
        return
    if "file" in cfg:
        if not cfg["file"].endswith(".safetensors") and not spec.allow_pickle:
            raise pickle_error(cfg["file"], what="encoder", where=where)
        return
    hub = _hub_files(cfg)
    if hub is None:
        if not spec.allow_pickle:
            raise pickle_error(
                f"of {spec.model}/{spec.pretrained} (published as a URL only)", what="encoder", where=where
            )
        return
    from huggingface_hub import HfApi, try_to_load_from_cache
    from huggingface_hub.errors import RepositoryNotFoundError

    repo, safe, pickle_name = hub
    wanted = safe + ([pickle_name] if pickle_name and spec.allow_pickle else [])
    if any(isinstance(try_to_load_from_cache(repo, n), str) for n in wanted):
        return
    try:
        files = {s.rfilename for s in (HfApi().model_info(repo, timeout=10).siblings or [])}
    except RepositoryNotFoundError as exc:
        raise hub_error(repo, None, exc, what="encoder weights", where=where) from None
    except Exception as exc:
        raise _fetch_error(spec, f"hub repo {repo}: {reason(exc)}", where) from None
    if any(n in files for n in wanted):
        return
    if pickle_name in files:
        raise pickle_error(f"{repo}/{pickle_name}", what="encoder", where=where)
    raise AuditError(f"hub repo {repo} holds none of {wanted}", where=where)
