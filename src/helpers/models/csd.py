"""CSD, the Contrastive Style Descriptor (Somepalli et al. 2024, "Measuring Style Similarity in Diffusion
Models"; github.com/learn2phoenix/CSD), from its published checkpoint.

The network, as ``CSD/model.py`` of that repository defines it: OpenAI's CLIP ViT-L/14 image tower (QuickGELU,
one attention head per 64 channels) whose ``proj`` is removed, so its output — the **feature** — is the class
token after ``ln_post`` (1024 numbers); two heads, ``last_layer_style`` and ``last_layer_content``, are plain
``1024 × 768`` matrices applied as ``feature @ head``. **The style vector is ``feature @ last_layer_style``,
L2-normalised** — the third output of CSD's ``forward`` and the one its evaluation (``CSD/utils.py:
extract_features`` with ``eval_embed='head'``) retrieves with. The content head, trained to be style-blind, is
not used here. Preprocessing is CSD's evaluation transform (``CSD/loss_utils.py: transforms_branch0``):
resize the shorter side to 224 (bicubic), centre-crop 224, CLIP's mean and std.

The checkpoint is a pickle, ``{"model_state_dict": {"module.backbone....", "module.last_layer_style",
"module.last_layer_content"}, ...}`` (``module.``: DistributedDataParallel's prefix), so it loads only with
``allow_pickle: true`` — first through PyTorch's restricted unpickler, which runs no code, and, should that
refuse the file, through the full one the user allowed. The same state dict saved as ``.safetensors`` needs
no pickle. The architecture is read from the tensors' shapes, so a smaller CSD-shaped checkpoint (the tiny
test model) loads through the same path.
"""

from __future__ import annotations

import argparse
import pickle
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..errors import AuditError
from ..files import sha256_file
from ..schema import EncoderSpec
from .policy import pickle_error, warn_pickle

__all__ = ["CSD", "load", "check", "preprocess"]

_MEAN = (0.48145466, 0.4578275, 0.40821073)  # OpenAI CLIP's, as CSD's transforms_branch0
_STD = (0.26862954, 0.26130258, 0.27577711)
_CONTENT = "last_layer_content"


class CSD(nn.Module):
    """CSD's network without its content head: the image tower of a CLIP ViT (OpenAI's: QuickGELU, ``width /
    64`` heads) with no projection, and the style head. ``forward`` gives the unit style vectors."""

    def __init__(
        self, width: int, layers: int, patch_size: int, image_size: int, mlp_ratio: float = 4.0, style_dim: int = 768
    ):
        from open_clip.transformer import QuickGELU, VisionTransformer

        super().__init__()
        self.backbone = VisionTransformer(
            image_size=image_size,
            patch_size=patch_size,
            width=width,
            layers=layers,
            heads=width // 64,
            mlp_ratio=mlp_ratio,
            output_dim=style_dim,
            act_layer=QuickGELU,
        )
        self.last_layer_style = nn.Parameter(self.backbone.proj.detach().clone())  # CSD starts it from CLIP's proj
        self.backbone.proj = None  # the backbone's output is then the class token after ln_post

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return nn.functional.normalize(self.backbone(pixels) @ self.last_layer_style, dim=-1)


def preprocess(size: int):
    """CSD's evaluation transform at ``size`` pixels (224 for the published model)."""
    from torchvision import transforms

    return transforms.Compose(
        [
            transforms.Resize(size, interpolation=transforms.InterpolationMode.BICUBIC),
            transforms.CenterCrop(size),
            transforms.ToTensor(),
            transforms.Normalize(_MEAN, _STD),
        ]
    )


def _architecture(state: dict[str, torch.Tensor], path: Path, where: str) -> dict[str, int | float]:
    """The constructor arguments of :class:`CSD` that the tensors' shapes imply."""
    wanted = ("backbone.conv1.weight", "backbone.positional_embedding", "last_layer_style")
    missing = [k for k in wanted if k not in state]
    if missing:
        raise AuditError(
            f"{path} is not a CSD checkpoint (no {', '.join(missing)})",
            where=f"{where}.model",
            fix="give CSD's published checkpoint (learn2phoenix/CSD; on the hub, "
            "tomg-group-umd/CSD-ViT-L's pytorch_model.bin)",
        )
    width, _, patch, _ = state["backbone.conv1.weight"].shape
    grid = round((state["backbone.positional_embedding"].shape[0] - 1) ** 0.5)
    layers = len({k.split(".")[3] for k in state if k.startswith("backbone.transformer.resblocks.")})
    mlp = state.get("backbone.transformer.resblocks.0.mlp.c_fc.weight")
    if width % 64 or mlp is None:
        raise AuditError(f"{path} is not a CSD checkpoint (a width of {width}, or no MLP)", where=f"{where}.model")
    return {
        "width": int(width),
        "layers": layers,
        "patch_size": int(patch),
        "image_size": int(grid * patch),
        "mlp_ratio": mlp.shape[0] / width,
        "style_dim": int(state["last_layer_style"].shape[1]),
    }


def _read(path: Path, spec: EncoderSpec, where: str) -> dict[str, torch.Tensor]:
    """The model state dict of a CSD checkpoint (pickle only if allowed), without DDP's ``module.`` prefix."""
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        ckpt = load_file(str(path))
    else:
        if not spec.allow_pickle:
            raise pickle_error(str(path), what="encoder", where=where)
        warn_pickle(f"encoder {path}")
        try:
            try:  # CSD's training script also pickles its argparse Namespace beside the weights
                with torch.serialization.safe_globals([argparse.Namespace]):
                    ckpt = torch.load(path, map_location="cpu", weights_only=True)
            except pickle.UnpicklingError:
                ckpt = torch.load(path, map_location="cpu", weights_only=False)  # allow_pickle: the user trusts it
        except Exception as exc:  # noqa: BLE001 - a truncated or foreign file: name it
            raise AuditError(
                f"cannot read the CSD checkpoint {path} ({type(exc).__name__}: {str(exc)[:200]})",
                where=f"{where}.model",
                fix="download the checkpoint again",
            ) from None
    state = ckpt.get("model_state_dict", ckpt) if isinstance(ckpt, dict) else {}
    return {k.removeprefix("module."): v for k, v in state.items() if torch.is_tensor(v)}


def check(spec: EncoderSpec, path: Path, where: str) -> None:
    """Preflight: the checkpoint file exists and may be loaded (a pickle only with ``allow_pickle``)."""
    if not path.is_file():
        raise AuditError(
            f"the CSD checkpoint {path} does not exist",
            where=f"{where}.model",
            fix="download it (learn2phoenix/CSD's README links it; the hub's "
            "tomg-group-umd/CSD-ViT-L holds it as pytorch_model.bin) and put it at this path",
        )
    if path.suffix != ".safetensors" and not spec.allow_pickle:
        raise pickle_error(str(path), what="encoder", where=where)


def load(spec: EncoderSpec, path: Path, device, where: str) -> dict[str, Any]:
    """The fields of the :class:`~helpers.models.encoders.Encoder` of the checkpoint ``path``, in eval mode on
    ``device``: an image-only encoder of style vectors."""
    check(spec, path, where)
    state = {k: v for k, v in _read(path, spec, where).items() if not k.startswith(_CONTENT)}
    arch = _architecture(state, path, where)
    with torch.device("meta"):
        model = CSD(**arch)
    try:
        model.load_state_dict(state, strict=True, assign=True)
    except RuntimeError as exc:
        raise AuditError(
            f"{path} does not fit CSD's network ({' '.join(str(exc).split())[:300]})", where=f"{where}.model"
        ) from None
    model = model.float().to(device).eval()
    return {
        "model": model,
        "preprocess": preprocess(arch["image_size"]),
        "tokenizer": None,
        "image_forward": model,
        "text_forward": None,
        "key": f"{spec.source}:{sha256_file(path)[:16]}",
        "checkpoint": str(path),
    }
