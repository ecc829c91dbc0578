"""What may be loaded, and what to say when a model cannot be had.

Weights load from safetensors only: a pickle checkpoint (``.bin``, ``.pt``, ``.pth``, ``.ckpt``) can run code
when loaded, so it needs ``allow_pickle: true`` on its spec and prints a warning. Remote code is never
trusted. Failures to fetch name the model and the ways forward.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

from ..errors import AuditError

__all__ = [
    "FIX_FETCH",
    "PICKLE_SUFFIXES",
    "pickle_only",
    "saved_weights",
    "warn_pickle",
    "reason",
    "hub_error",
    "pickle_error",
]

log = logging.getLogger("helpers.models")

FIX_FETCH = (
    "connect to the network; or fill a local Hugging Face cache (HF_HOME) or use 'source: local' with a "
    "saved folder; or run 'make demo' (the toy world, no download) or 'make smoke' for an offline run"
)
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt")


def pickle_only(folder: Path, components: tuple[str, ...]) -> list[str]:
    """Components of a saved pipeline folder whose weights exist only as pickle files."""
    bad = []
    for comp in components:
        sub = folder / comp
        if not sub.is_dir():
            continue
        files = [p.name for p in sub.iterdir() if p.is_file()]
        if any(f.endswith(PICKLE_SUFFIXES) for f in files) and not any(f.endswith(".safetensors") for f in files):
            bad.append(comp)
    return bad


def saved_weights(folder: Path, *, config: str, allow_pickle: bool, where: str, how: str) -> list[Path]:
    """The weights files of a model saved in ``folder`` (which must hold its ``config`` file): the safetensors
    ones; else, if ``allow_pickle``, the pickle ones (the caller warns); else refused. ``how`` says how to save
    the model so that it loads."""
    if not folder.is_dir():
        raise AuditError(f"{folder} does not exist", where=f"{where}.model", fix=how)
    if not (folder / config).is_file():
        raise AuditError(f"{folder} has no {config}", where=f"{where}.model", fix=how)
    safe = sorted(folder.glob("*.safetensors"))
    if safe:
        return safe
    pickles = sorted(p for p in folder.iterdir() if p.suffix in PICKLE_SUFFIXES)
    if not pickles:
        raise AuditError(f"{folder} holds no weights file", where=f"{where}.model", fix=how)
    if not allow_pickle:
        raise pickle_error(str(pickles[0]), what="encoder", where=where)
    return pickles


def warn_pickle(what: str) -> None:
    msg = (
        f"allow_pickle is set for {what}: pickle checkpoints can run arbitrary code when loaded; "
        "use only checkpoints you trust"
    )
    warnings.warn(msg, stacklevel=3)
    log.warning(msg)


def pickle_error(file: str, *, what: str, where: str) -> AuditError:
    return AuditError(
        f"the {what} weights {file} are a pickle checkpoint; weights load from safetensors only",
        where=where,
        fix=f"convert them to safetensors, or set 'allow_pickle: true' on this {what} if you trust them",
    )


def reason(exc: BaseException | None) -> str:
    """A short, one-line reason for a failed fetch."""
    from huggingface_hub.errors import OfflineModeIsEnabled

    if exc is None:
        return "unknown reason"
    if isinstance(exc, OfflineModeIsEnabled) or "offline mode is enabled" in str(exc).lower():
        return "HF_HUB_OFFLINE is set"
    text = " ".join(str(exc).split()) or type(exc).__name__
    if len(text) > 120:
        text = text[:120].rsplit(" ", 1)[0] + " …"
    return text


def hub_error(repo: str, revision: str | None, exc: Exception, *, what: str, where: str) -> AuditError:
    """The one line for a model that the Hugging Face Hub did not give."""
    from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError, RevisionNotFoundError

    rev = f" (revision {revision})" if revision else ""
    if isinstance(exc, GatedRepoError):
        return AuditError(
            f"the {what} {repo!r}{rev} is gated on the Hugging Face Hub",
            where=where,
            fix="accept its licence on its hub page and log in (hf auth login), or use 'source: local'",
        )
    if isinstance(exc, RevisionNotFoundError):
        return AuditError(f"the {what} {repo!r} has no revision {revision!r}", where=where, fix="correct the revision")
    if isinstance(exc, RepositoryNotFoundError):
        return AuditError(
            f"the {what} {repo!r} does not exist on the Hugging Face Hub (or is private)",
            where=where,
            fix="correct the repo id (e.g. stable-diffusion-v1-5/stable-diffusion-v1-5)",
        )
    return AuditError(
        f"could not fetch the {what} {repo!r}{rev}: not in the local Hugging Face cache and the hub is not "
        f"reachable ({reason(exc)})",
        where=where,
        fix=FIX_FETCH,
    )
