"""Where models run: ``auto`` resolved to the GPU when one is present, else the CPU."""

from __future__ import annotations

from ..errors import AuditError

__all__ = ["resolve_device"]


def resolve_device(device: str = "auto", dtype: str = "auto"):
    """``(torch.device, torch.dtype)`` for settings that may say ``auto``: CUDA and float16 when a GPU is
    present, else the CPU and float32."""
    import torch

    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise AuditError(f"unknown device {device!r}", fix="use auto, cpu, cuda or cuda:N") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise AuditError(f"device {device!r} was asked for, but no CUDA GPU is visible", fix="set device: auto or cpu")
    if dtype == "auto":
        return dev, torch.float16 if dev.type == "cuda" else torch.float32
    return dev, getattr(torch, dtype)
