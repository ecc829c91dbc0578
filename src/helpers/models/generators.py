"""The text-to-image generator: a diffusers pipeline from the hub, a saved folder, or a tiny random build.

Every source goes through one call, diffusers' ``AutoPipelineForText2Image.from_pretrained``, which picks
the pipeline class the model was saved with (Stable Diffusion 1.x/2.x and their distilled "turbo" versions,
SDXL, ...). ``tiny`` builds its folder once (:mod:`helpers.models.tiny`) and then loads it like a ``local``
one. What differs between families at call time (size, steps, guidance, scheduler) is set per generator
(:meth:`helpers.schema.GenerationParams.call_settings`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import AuditError
from ..files import folder_identity
from ..paths import resolve_path
from ..schema import GenerationParams, GeneratorSpec
from .devices import resolve_device
from .policy import hub_error, pickle_only, warn_pickle
from .tiny import tiny_dir, tiny_generator_dir

__all__ = ["load_pipeline", "generator_identity", "check_generator"]


def generator_identity(spec: GeneratorSpec) -> dict[str, Any]:
    """What identifies the generator's weights, for fingerprints: never needs the weights themselves."""
    if spec.source == "tiny":
        return {"source": "tiny", "model": spec.model, "folder": tiny_dir("generator", spec.model).name}
    if spec.source in ("local", "folder"):
        folder = resolve_path(spec.path if spec.external else spec.model)
        return {"source": spec.source, "model": str(folder), "files": folder_identity(folder)}
    return {"source": "hub", "model": spec.model, "revision": spec.revision}


def _components(gen: GenerationParams) -> tuple[str, ...]:
    return ("unet", "transformer", "vae", "text_encoder", "text_encoder_2") + (
        ("safety_checker",) if gen.safety_checker else ()
    )


def _check_local(folder: Path, spec: GeneratorSpec, gen: GenerationParams, where: str) -> None:
    where = f"{where}.model"
    if not (folder / "model_index.json").is_file():
        raise AuditError(
            f"{folder} is not a saved diffusers pipeline (no model_index.json)",
            where=where,
            fix="save one with pipeline.save_pretrained(folder, safe_serialization=True)",
        )
    bad = pickle_only(folder, _components(gen))
    if bad and not spec.allow_pickle:
        raise AuditError(
            f"{folder} holds only pickle weights for {', '.join(bad)}; weights load from safetensors only",
            where=where,
            fix="convert the checkpoint to safetensors (save_pretrained(..., safe_serialization=True)), or set "
            "'allow_pickle: true' on this generator if you trust it",
        )


def _scheduler(pipe, name: str):
    """The scheduler ``name`` built from the model's own scheduler config (``default``: the model's own)."""
    import diffusers

    cfg = dict(pipe.scheduler.config)
    if name == "default":
        return pipe.scheduler
    if name == "pndm":
        return diffusers.PNDMScheduler.from_config(cfg, skip_prk_steps=True, steps_offset=1)
    if name == "ddim":
        return diffusers.DDIMScheduler.from_config(cfg, steps_offset=cfg.get("steps_offset", 1) or 1)
    classes = {
        "euler": "EulerDiscreteScheduler",
        "euler_a": "EulerAncestralDiscreteScheduler",
        "dpm": "DPMSolverMultistepScheduler",
    }
    return getattr(diffusers, classes[name]).from_config(cfg)


def pipeline_class(target: str, *, revision: str | None = None, local: bool = True) -> str:
    """The pipeline class a saved model names in its ``model_index.json`` (for a hub model, fetched or cached)."""
    from diffusers import DiffusionPipeline

    return DiffusionPipeline.load_config(target, revision=revision, local_files_only=local)["_class_name"]


def load_pipeline(spec: GeneratorSpec, gen: GenerationParams, *, device: str | None = None, index: int = 0):
    """A ready-to-call diffusers text-to-image pipeline for ``spec`` with the settings of ``gen``.

    ``device`` overrides ``gen.device`` (a distributed launcher gives each process its own GPU). The safety
    checker (of the pipelines that have one) is off unless ``gen.safety_checker``: when on, it replaces
    flagged images with black ones, which biases the measurement. On CUDA: SDPA attention, channels-last
    UNet, and optionally ``torch.compile``. ``index`` is the entry's position in ``generation.generators``,
    which errors name.
    """
    import torch
    from diffusers import AutoPipelineForText2Image

    where = f"generation.generators[{index}]"
    dev, dtype = resolve_device(device or gen.device, gen.dtype)
    # allow_pickle: prefer safetensors, fall back to pickle (None); False would ignore safetensors files.
    kwargs: dict[str, Any] = {"use_safetensors": None if spec.allow_pickle else True, "dtype": dtype}
    if spec.allow_pickle:
        warn_pickle(f"generator {spec.model!r}")
    if spec.source == "tiny":
        target, kwargs["local_files_only"] = str(tiny_generator_dir(spec.model)), True
    elif spec.source == "local":
        folder = resolve_path(spec.model)
        _check_local(folder, spec, gen, where)
        target, kwargs["local_files_only"] = str(folder), True
    else:
        target, kwargs["revision"] = spec.model, spec.revision
    try:
        if (
            not gen.safety_checker
            and pipeline_class(target, revision=spec.revision, local=spec.source != "hub") == "StableDiffusionPipeline"
        ):
            kwargs.update(safety_checker=None, feature_extractor=None, requires_safety_checker=False)
        pipe = AutoPipelineForText2Image.from_pretrained(target, **kwargs)
    except Exception as exc:  # diffusers raises OSError, ValueError, EnvironmentError... for the same causes
        raise _load_error(spec, exc, where) from None
    pipe.scheduler = _scheduler(pipe, gen.call_settings(spec)["scheduler"])
    pipe.set_progress_bar_config(disable=True)
    pipe = pipe.to(dev)
    if getattr(pipe, "unet", None) is None:
        return pipe
    _ensure_sdpa(pipe.unet)
    if dev.type == "cuda":
        if gen.channels_last:
            pipe.unet.to(memory_format=torch.channels_last)
        if gen.compile:
            pipe.unet = torch.compile(pipe.unet)
    if gen.vae_slicing:
        pipe.vae.enable_slicing()
    if gen.vae_tiling:
        pipe.vae.enable_tiling()
    return pipe


def _ensure_sdpa(unet) -> None:
    from diffusers.models.attention_processor import AttnProcessor2_0

    if not all(isinstance(p, AttnProcessor2_0) for p in unet.attn_processors.values()):
        unet.set_attn_processor(AttnProcessor2_0())


def _load_error(spec: GeneratorSpec, exc: Exception, where: str) -> AuditError:
    text = " ".join(str(exc).split())
    if "safetensors" in text.lower() and not spec.allow_pickle:
        return AuditError(
            f"could not load {spec.model!r} from safetensors ({text[:200]})",
            where=where,
            fix="convert the weights to safetensors, or set 'allow_pickle: true' on this generator if you trust it",
        )
    if spec.source == "hub":
        return hub_error(spec.model, spec.revision, exc, what="generator", where=where)
    return AuditError(f"could not load generator {spec.model!r}: {text[:300]}", where=where)


def check_generator(spec: GeneratorSpec, gen: GenerationParams, *, index: int = 0) -> None:
    """Preflight: the generator is cached locally or reachable on the hub, with safetensors weights.

    At most one network call (the hub's file listing), made only when the local cache lacks the model.
    ``index`` is the entry's position in ``generation.generators``, which errors name."""
    where = f"generation.generators[{index}]"
    if spec.source == "tiny":
        tiny_dir("generator", spec.model, index=index)  # an unknown tiny model fails here
        return
    if spec.source == "local":
        _check_local(resolve_path(spec.model), spec, gen, where)
        return
    if spec.external:  # images made elsewhere: the folder is read by stage 02 (helpers.generation.folder)
        return
    from diffusers import DiffusionPipeline
    from huggingface_hub import HfApi

    passed = {} if gen.safety_checker else {"safety_checker": None, "feature_extractor": None}
    try:
        DiffusionPipeline.download(
            spec.model,
            revision=spec.revision,
            local_files_only=True,
            use_safetensors=None if spec.allow_pickle else True,
            **passed,
        )
        return
    except Exception:  # noqa: BLE001 - not (fully) in the local cache: ask the hub below
        pass
    try:
        info = HfApi().model_info(spec.model, revision=spec.revision, timeout=10)
    except Exception as exc:
        raise hub_error(spec.model, spec.revision, exc, what="generator", where=where) from None
    files = [s.rfilename for s in (info.siblings or [])]
    denoiser = ("unet/", "transformer/")
    if not spec.allow_pickle and not any(f.startswith(denoiser) and f.endswith(".safetensors") for f in files):
        raise AuditError(
            f"the generator {spec.model!r} publishes no safetensors weights for its UNet",
            where=where,
            fix="set 'allow_pickle: true' on this generator if you trust it",
        )
