"""Loading the two models of a run: the text-to-image generator and the CLIP encoder.

Every source goes through one loading path. ``hub`` and ``local`` generators load with diffusers'
``from_pretrained``; ``tiny`` builds a small random-weight pipeline once, saves it under
``CACHE_DIR/tiny/`` and then loads that folder through the same ``from_pretrained`` call. Encoders
likewise: ``tiny`` is saved in open_clip's ``local-dir:`` layout and loaded as a ``local`` encoder.

Weights load from safetensors only, unless a spec sets ``allow_pickle`` (pickle checkpoints can run code
when loaded). Remote code is never trusted. :func:`preflight` checks, within seconds, that every model of
a run can be had, and otherwise says which one and how to get it.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import paths as _paths
from .errors import AuditError
from .params import EncoderSpec, GenerationParams, GeneratorSpec, Params, resolve_path

__all__ = [
    "Encoder",
    "load_pipeline",
    "load_encoder",
    "preflight",
    "describe",
    "resolve_device",
    "generator_identity",
    "TINY_GENERATORS",
    "TINY_ENCODERS",
]

log = logging.getLogger(__name__)

_FIX_FETCH = (
    "connect to the network; or fill a local Hugging Face cache (HF_HOME) or use 'source: local' with a "
    "saved folder; or run 'make smoke' for an offline run with tiny random-weight models"
)
_PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt")
_TINY_RECIPE = 1  # bump when the tiny builders change, so cached folders are rebuilt

# Stable Diffusion v1.5's scheduler settings (PNDM needs skip_prk_steps and steps_offset for few steps).
SD15_SCHEDULER = {
    "beta_start": 0.00085,
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "num_train_timesteps": 1000,
    "set_alpha_to_one": False,
    "skip_prk_steps": True,
    "steps_offset": 1,
    "trained_betas": None,
}

TINY_GENERATORS: dict[str, dict[str, Any]] = {
    "tiny-sd": {
        "unet": {
            "block_out_channels": [32, 64],
            "layers_per_block": 1,
            "sample_size": 32,
            "in_channels": 4,
            "out_channels": 4,
            "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D"],
            "up_block_types": ["CrossAttnUpBlock2D", "UpBlock2D"],
            "cross_attention_dim": 32,
            "attention_head_dim": 8,
            "norm_num_groups": 32,
        },
        "vae": {
            "block_out_channels": [32, 64],
            "in_channels": 3,
            "out_channels": 3,
            "down_block_types": ["DownEncoderBlock2D", "DownEncoderBlock2D"],
            "up_block_types": ["UpDecoderBlock2D", "UpDecoderBlock2D"],
            "latent_channels": 4,
            "norm_num_groups": 32,
            "sample_size": 64,
        },
        "text_encoder": {
            "vocab_size": 49408,
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "max_position_embeddings": 77,
            "projection_dim": 32,
            "bos_token_id": 49406,
            "eos_token_id": 49407,
            "pad_token_id": 49407,
        },
    }
}

TINY_ENCODERS: dict[str, dict[str, Any]] = {
    "tiny-clip": {
        "embed_dim": 32,
        "vision_cfg": {"image_size": 32, "layers": 2, "width": 64, "patch_size": 8},
        "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2},
    }
}


# -- devices ---------------------------------------------------------------------------------------------


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
        dt = torch.float16 if dev.type == "cuda" else torch.float32
    else:
        dt = getattr(torch, dtype)
    return dev, dt


# -- hashing and atomic folders ---------------------------------------------------------------------------


def _digest(obj: Any, n: int = 12) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:n]


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


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


# -- tiny models -------------------------------------------------------------------------------------------


def _tiny_recipe(kind: str, model: str) -> dict[str, Any]:
    table = TINY_GENERATORS if kind == "generator" else TINY_ENCODERS
    if model not in table:
        raise AuditError(
            f"unknown tiny {kind} model {model!r}",
            where=f"{'generation.generators' if kind == 'generator' else 'encoding.encoders'}[0].model",
            fix=f"use one of {sorted(table)}",
        )
    return {"recipe": _TINY_RECIPE, "model": model, "config": table[model]}


def _tiny_dir(kind: str, model: str) -> Path:
    return _paths.CACHE_DIR / "tiny" / f"{model}-{_digest(_tiny_recipe(kind, model))}"


def _clip_tokenizer(folder: Path):
    """A transformers CLIPTokenizer equal to SD v1.5's, built from the BPE file bundled with open_clip."""
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
    # silently builds a broken tokenizer.
    return CLIPTokenizer.from_pretrained(str(folder), model_max_length=77, pad_token="<|endoftext|>")


def _build_tiny_generator(model: str, out: Path) -> None:
    import torch
    from diffusers import AutoencoderKL, PNDMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    cfg = TINY_GENERATORS[model]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        unet = UNet2DConditionModel(**cfg["unet"])
        vae = AutoencoderKL(**cfg["vae"])
        text_encoder = CLIPTextModel(CLIPTextConfig(**cfg["text_encoder"]))
    tokenizer = _clip_tokenizer(out / "_tokenizer_src")
    pipe = StableDiffusionPipeline(
        unet=unet,
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        scheduler=PNDMScheduler(**SD15_SCHEDULER),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(out, safe_serialization=True)
    shutil.rmtree(out / "_tokenizer_src")


def _build_tiny_encoder(model: str, out: Path) -> None:
    import open_clip
    import torch
    from safetensors.torch import save_file

    cfg = TINY_ENCODERS[model]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        clip = open_clip.model.CLIP(**json.loads(json.dumps(cfg)))
    state = {k: v.contiguous() for k, v in clip.state_dict().items()}
    save_file(state, str(out / "open_clip_model.safetensors"))
    preprocess = {"mean": list(open_clip.OPENAI_DATASET_MEAN), "std": list(open_clip.OPENAI_DATASET_STD)}
    (out / "open_clip_config.json").write_text(
        json.dumps({"model_cfg": cfg, "preprocess_cfg": preprocess}, indent=2), encoding="utf-8"
    )


def tiny_generator_dir(model: str) -> Path:
    """The saved folder of a tiny generator, built on first use (deterministic: fixed seed)."""
    final = _tiny_dir("generator", model)
    return _build_once(final, lambda tmp: _build_tiny_generator(model, tmp))


def tiny_encoder_dir(model: str) -> Path:
    """The saved ``local-dir:`` folder of a tiny encoder, built on first use (deterministic: fixed seed)."""
    final = _tiny_dir("encoder", model)
    return _build_once(final, lambda tmp: _build_tiny_encoder(model, tmp))


# -- generators --------------------------------------------------------------------------------------------


def generator_identity(spec: GeneratorSpec) -> dict[str, Any]:
    """What identifies the generator's weights, for fingerprints: never needs the weights themselves."""
    if spec.source == "tiny":
        return {"source": "tiny", "model": spec.model, "folder": _tiny_dir("generator", spec.model).name}
    if spec.source == "local":
        folder = resolve_path(spec.model)
        listing = sorted(
            (str(p.relative_to(folder)), p.stat().st_size) for p in folder.rglob("*") if p.is_file()
        ) if folder.is_dir() else []
        return {"source": "local", "model": str(folder), "files": _digest(listing, 16)}
    return {"source": "hub", "model": spec.model, "revision": spec.revision}


def _pickle_only(folder: Path, components: tuple[str, ...]) -> list[str]:
    """Components of a saved pipeline folder whose weights exist only as pickle files."""
    bad = []
    for comp in components:
        sub = folder / comp
        if not sub.is_dir():
            continue
        files = [p.name for p in sub.iterdir() if p.is_file()]
        has_safe = any(f.endswith(".safetensors") for f in files)
        has_pickle = any(f.endswith(_PICKLE_SUFFIXES) for f in files)
        if has_pickle and not has_safe:
            bad.append(comp)
    return bad


def _components(gen: GenerationParams) -> tuple[str, ...]:
    return ("unet", "vae", "text_encoder") + (("safety_checker",) if gen.safety_checker else ())


def _warn_pickle(what: str) -> None:
    msg = (
        f"allow_pickle is set for {what}: pickle checkpoints can run arbitrary code when loaded; "
        "use only checkpoints you trust"
    )
    warnings.warn(msg, stacklevel=3)
    log.warning(msg)


def _check_local_generator(folder: Path, spec: GeneratorSpec, gen: GenerationParams) -> None:
    where = "generation.generators[0].model"
    if not (folder / "model_index.json").is_file():
        raise AuditError(
            f"{folder} is not a saved diffusers pipeline (no model_index.json)",
            where=where,
            fix="save one with pipeline.save_pretrained(folder, safe_serialization=True)",
        )
    bad = _pickle_only(folder, _components(gen))
    if bad and not spec.allow_pickle:
        raise AuditError(
            f"{folder} holds only pickle weights for {', '.join(bad)}; weights load from safetensors only",
            where=where,
            fix="convert the checkpoint to safetensors (save_pretrained(..., safe_serialization=True)), or set "
            "'allow_pickle: true' on this generator if you trust it",
        )


def _scheduler(pipe, name: str):
    from diffusers import DDIMScheduler, DPMSolverMultistepScheduler, EulerDiscreteScheduler, PNDMScheduler

    cfg = dict(pipe.scheduler.config)
    if name == "pndm":
        return PNDMScheduler.from_config(cfg, skip_prk_steps=True, steps_offset=1)
    if name == "ddim":
        return DDIMScheduler.from_config(cfg, steps_offset=cfg.get("steps_offset", 1) or 1)
    if name == "euler":
        return EulerDiscreteScheduler.from_config(cfg)
    return DPMSolverMultistepScheduler.from_config(cfg)


def load_pipeline(spec: GeneratorSpec, gen: GenerationParams, *, device: str | None = None):
    """A ready-to-call diffusers ``StableDiffusionPipeline`` for ``spec`` with the settings of ``gen``.

    ``device`` overrides ``gen.device`` (a distributed launcher gives each process its own GPU). The safety
    checker is off unless ``gen.safety_checker``: when on, it replaces flagged images with black ones, which
    biases the measurement. On CUDA: SDPA attention, channels-last UNet, and optionally ``torch.compile``.
    """
    import torch
    from diffusers import StableDiffusionPipeline

    dev, dtype = resolve_device(device or gen.device, gen.dtype)
    # allow_pickle: prefer safetensors, fall back to pickle (None); False would ignore safetensors files.
    kwargs: dict[str, Any] = {"use_safetensors": None if spec.allow_pickle else True, "dtype": dtype}
    if not gen.safety_checker:
        kwargs.update(safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    if spec.allow_pickle:
        _warn_pickle(f"generator {spec.model!r}")
    if spec.source == "tiny":
        target, kwargs["local_files_only"] = str(tiny_generator_dir(spec.model)), True
    elif spec.source == "local":
        folder = resolve_path(spec.model)
        _check_local_generator(folder, spec, gen)
        target, kwargs["local_files_only"] = str(folder), True
    else:
        target, kwargs["revision"] = spec.model, spec.revision
    try:
        pipe = StableDiffusionPipeline.from_pretrained(target, **kwargs)
    except Exception as exc:  # diffusers raises OSError, ValueError, EnvironmentError... for the same causes
        raise _generator_error(spec, exc) from None
    pipe.scheduler = _scheduler(pipe, gen.scheduler)
    pipe.set_progress_bar_config(disable=True)
    pipe = pipe.to(dev)
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


def _generator_error(spec: GeneratorSpec, exc: Exception) -> AuditError:
    text = " ".join(str(exc).split())
    where = "generation.generators[0]"
    if "safetensors" in text.lower() and not spec.allow_pickle:
        return AuditError(
            f"could not load {spec.model!r} from safetensors ({text[:200]})",
            where=where,
            fix="convert the weights to safetensors, or set 'allow_pickle: true' on this generator if you trust it",
        )
    if spec.source == "hub":
        return _hub_error(spec.model, spec.revision, exc, what="generator", where=where)
    return AuditError(f"could not load generator {spec.model!r}: {text[:300]}", where=where)


def _reason(exc: BaseException | None) -> str:
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


def _hub_error(repo: str, revision: str | None, exc: Exception, *, what: str, where: str) -> AuditError:
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
    reason = _reason(exc)
    return AuditError(
        f"could not fetch the {what} {repo!r}{rev}: not in the local Hugging Face cache and the hub is not reachable ({reason})",
        where=where,
        fix=_FIX_FETCH,
    )


# -- encoders ----------------------------------------------------------------------------------------------


@dataclass
class Encoder:
    """A CLIP model ready to embed: eval mode, its preprocess transform and tokenizer.

    ``key`` identifies the weights and the compute precision, for embedding caches; ``autocast`` is the
    dtype of the autocast region the forward runs in (``None``: plain float32).
    """

    spec: EncoderSpec
    model: Any
    preprocess: Callable
    tokenizer: Callable
    key: str
    dim: int
    device: Any
    autocast: Any = None
    checkpoint: str | None = None

    def _ctx(self):
        import contextlib

        import torch

        if self.autocast is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.autocast)

    def encode_pixels(self, pixels):
        """L2-normalised float32 image embeddings (on the CPU) of a preprocessed batch."""
        import torch

        with torch.inference_mode(), self._ctx():
            out = self.model.encode_image(pixels.to(self.device, non_blocking=True))
        return torch.nn.functional.normalize(out.float(), dim=-1).cpu()

    def encode_tokens(self, tokens):
        """L2-normalised float32 text embeddings (on the CPU) of a tokenized batch."""
        import torch

        with torch.inference_mode(), self._ctx():
            out = self.model.encode_text(tokens.to(self.device))
        return torch.nn.functional.normalize(out.float(), dim=-1).cpu()


def _open_clip_tag(spec: EncoderSpec) -> dict[str, Any] | None:
    """The pretrained config of ``spec``'s tag, after checking the architecture and tag exist."""
    import open_clip

    where = "encoding.encoders[0]"
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


def _hf_source(cfg: dict[str, Any]) -> tuple[str, list[str], str] | None:
    """``(repo, safetensors candidates, pickle file)`` of an open_clip tag hosted on the hub."""
    from open_clip.constants import HF_SAFE_WEIGHTS_NAME, HF_WEIGHTS_NAME

    hf = cfg.get("hf_hub") or ""
    if not hf:
        return None
    repo, filename = os.path.split(hf)
    filename = filename or HF_WEIGHTS_NAME
    if filename.endswith(".safetensors"):
        return repo, [filename], ""
    safe = [HF_SAFE_WEIGHTS_NAME] if filename == HF_WEIGHTS_NAME else [filename.rsplit(".", 1)[0] + ".safetensors"]
    return repo, safe, filename


def _encoder_fetch_error(spec: EncoderSpec, exc: Exception | None, detail: str = "") -> AuditError:
    reason = detail or _reason(exc)
    return AuditError(
        f"could not fetch the open_clip encoder {spec.model} pretrained={spec.pretrained!r}: not in the local "
        f"cache and not reachable ({reason})",
        where="encoding.encoders[0]",
        fix=_FIX_FETCH,
    )


def _open_clip_checkpoint(spec: EncoderSpec, cfg: dict[str, Any], *, download: bool) -> str | None:
    """The local weights file of an open_clip tag (downloaded when ``download``), safetensors first.

    Without ``download`` this only checks that the file is cached or reachable and returns ``None`` then.
    """
    from huggingface_hub import HfApi, try_to_load_from_cache
    from huggingface_hub.errors import EntryNotFoundError, RepositoryNotFoundError

    if "file" in cfg:
        if not cfg["file"].endswith(".safetensors") and not spec.allow_pickle:
            raise _pickle_encoder_error(spec, cfg["file"])
        return cfg["file"]
    source = _hf_source(cfg)
    no_safe_fix = "set 'allow_pickle: true' on this encoder if you trust the checkpoint, or pick a tag with safetensors weights"
    if source is None:  # an open_clip tag with a URL only: a pickle checkpoint
        if not spec.allow_pickle:
            raise AuditError(
                f"the open_clip tag {spec.model}/{spec.pretrained} is published only as a pickle checkpoint",
                where="encoding.encoders[0].pretrained",
                fix=no_safe_fix,
            )
        if not download:
            return None
        import open_clip

        _warn_pickle(f"encoder {spec.model}/{spec.pretrained}")
        try:
            return open_clip.download_pretrained(cfg, prefer_hf_hub=False)
        except Exception as exc:
            raise _encoder_fetch_error(spec, exc) from None
    repo, safe, pickle_name = source
    wanted = safe + ([pickle_name] if pickle_name and spec.allow_pickle else [])
    for name in wanted:
        cached = try_to_load_from_cache(repo, name)
        if isinstance(cached, str):
            if name == pickle_name:
                _warn_pickle(f"encoder {spec.model}/{spec.pretrained}")
            return cached if download else None
    if not download:
        try:
            files = {s.rfilename for s in (HfApi().model_info(repo, timeout=10).siblings or [])}
        except RepositoryNotFoundError as exc:
            raise _hub_error(repo, None, exc, what="encoder weights", where="encoding.encoders[0]") from None
        except Exception as exc:
            raise _encoder_fetch_error(spec, exc, f"hub repo {repo}: {_reason(exc)}") from None
        if any(n in files for n in wanted):
            return None
        if pickle_name in files:
            raise _pickle_encoder_error(spec, f"{repo}/{pickle_name}")
        raise AuditError(f"hub repo {repo} holds none of {wanted}", where="encoding.encoders[0]")
    from huggingface_hub import hf_hub_download

    last: Exception | None = None
    for name in wanted:
        try:
            path = hf_hub_download(repo, name)
        except EntryNotFoundError as exc:
            last = exc
            continue
        except Exception as exc:
            raise _encoder_fetch_error(spec, exc) from None
        if name == pickle_name:
            _warn_pickle(f"encoder {spec.model}/{spec.pretrained}")
        return path
    if not spec.allow_pickle:
        raise _pickle_encoder_error(spec, f"{repo}/{pickle_name}")
    raise _encoder_fetch_error(spec, last)


def _pickle_encoder_error(spec: EncoderSpec, file: str) -> AuditError:
    return AuditError(
        f"the encoder weights {file} are a pickle checkpoint; weights load from safetensors only",
        where="encoding.encoders[0]",
        fix="convert them to safetensors, or set 'allow_pickle: true' on this encoder if you trust them",
    )


def _check_local_encoder(folder: Path, spec: EncoderSpec) -> Path:
    """The weights file of a ``local-dir:`` encoder folder, safetensors first (pickle only if allowed)."""
    where = "encoding.encoders[0].model"
    if not folder.is_dir():
        raise AuditError(f"{folder} does not exist", where=where, fix="save the model there first")
    if not (folder / "open_clip_config.json").is_file():
        raise AuditError(
            f"{folder} has no open_clip_config.json",
            where=where,
            fix="save the model in open_clip's hub layout: open_clip_config.json and open_clip_model.safetensors",
        )
    safe = sorted(folder.glob("*.safetensors"))
    if safe:
        return next((p for p in safe if p.name == "open_clip_model.safetensors"), safe[0])
    pickles = sorted(p for p in folder.iterdir() if p.suffix in _PICKLE_SUFFIXES)
    if not pickles:
        raise AuditError(f"{folder} holds no weights file", where=where, fix="add open_clip_model.safetensors")
    if not spec.allow_pickle:
        raise _pickle_encoder_error(spec, str(pickles[0]))
    _warn_pickle(f"encoder {folder}")
    return pickles[0]


def load_encoder(spec: EncoderSpec, *, device: str = "auto", dtype: str = "auto") -> Encoder:
    """The CLIP encoder of ``spec`` in eval mode, with its preprocess transform and tokenizer.

    ``dtype`` sets the autocast precision of the forward pass (``auto``: float16 on CUDA, float32 on the
    CPU; ``bfloat16`` on the CPU only when asked). Weights stay float32.
    """
    import open_clip
    import torch

    dev, compute = resolve_device(device, dtype)
    autocast = None if compute == torch.float32 else compute
    kwargs: dict[str, Any] = {"device": dev, "precision": "fp32"}
    if spec.source in ("local", "tiny"):
        folder = tiny_encoder_dir(spec.model) if spec.source == "tiny" else resolve_path(spec.model)
        weights = _check_local_encoder(folder, spec)
        name, ident = f"local-dir:{folder}", f"{spec.source}:{_file_sha256(weights)[:16]}"
        checkpoint: str | None = str(weights)
    else:
        cfg = _open_clip_tag(spec)
        # pretrained: null gives random weights, initialised from a fixed seed so the cache key holds.
        name, ident = spec.model, f"open_clip:{spec.model}:{spec.pretrained or 'random-seed0'}"
        checkpoint = None
        if cfg is not None:
            checkpoint = _open_clip_checkpoint(spec, cfg, download=True)
            kwargs["pretrained"] = checkpoint
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
        raise AuditError(f"could not load encoder {spec.model!r}: {' '.join(str(exc).split())[:300]}", where="encoding.encoders[0]") from None
    model.eval()
    tokenizer = open_clip.get_tokenizer(name)
    precision = "float32" if autocast is None else str(autocast).removeprefix("torch.")
    enc = Encoder(
        spec=spec, model=model, preprocess=preprocess, tokenizer=tokenizer, key=f"{ident}|{precision}",
        dim=0, device=dev, autocast=autocast, checkpoint=checkpoint,
    )
    enc.dim = int(enc.encode_tokens(tokenizer([""])).shape[-1])
    return enc


# -- preflight and description ----------------------------------------------------------------------------


def _check_generator(spec: GeneratorSpec, gen: GenerationParams) -> None:
    if spec.source == "tiny":
        _tiny_recipe("generator", spec.model)
        return
    if spec.source == "local":
        _check_local_generator(resolve_path(spec.model), spec, gen)
        return
    from diffusers import StableDiffusionPipeline
    from huggingface_hub import HfApi

    passed = {} if gen.safety_checker else {"safety_checker": None, "feature_extractor": None}
    try:
        StableDiffusionPipeline.download(
            spec.model, revision=spec.revision, local_files_only=True, use_safetensors=None if spec.allow_pickle else True, **passed
        )
        return
    except Exception:  # noqa: BLE001 - not (fully) in the local cache: ask the hub below
        pass
    try:
        info = HfApi().model_info(spec.model, revision=spec.revision, timeout=10)
    except Exception as exc:
        raise _hub_error(spec.model, spec.revision, exc, what="generator", where="generation.generators[0]") from None
    files = [s.rfilename for s in (info.siblings or [])]
    if not spec.allow_pickle and not any(f.startswith("unet/") and f.endswith(".safetensors") for f in files):
        raise AuditError(
            f"the generator {spec.model!r} publishes no safetensors weights for its UNet",
            where="generation.generators[0]",
            fix="set 'allow_pickle: true' on this generator if you trust it",
        )


def _check_encoder(spec: EncoderSpec) -> None:
    if spec.source == "tiny":
        _tiny_recipe("encoder", spec.model)
        return
    if spec.source == "local":
        _check_local_encoder(resolve_path(spec.model), spec)
        return
    cfg = _open_clip_tag(spec)
    if cfg is not None:
        _open_clip_checkpoint(spec, cfg, download=False)


def preflight(params: Params) -> None:
    """Check that every model of the run can be had (cached locally, or reachable to download).

    Fails within seconds, with one line naming the model and the ways forward; downloads nothing.
    """
    _check_generator(params.generator, params.generation)
    _check_encoder(params.encoder)


def describe(params: Params) -> dict[str, Any]:
    """Resolved model ids, revisions and local folders, for ``run.json``. Reads caches only, never the network."""
    gen, enc = params.generator, params.encoder
    g: dict[str, Any] = {"name": gen.name, "source": gen.source, "model": gen.model, "revision": gen.revision,
                         "allow_pickle": gen.allow_pickle, "scheduler": params.generation.scheduler}
    if gen.source == "tiny":
        g["path"] = str(_tiny_dir("generator", gen.model))
        g["config"] = TINY_GENERATORS.get(gen.model)
    elif gen.source == "local":
        g["path"] = str(resolve_path(gen.model))
    else:
        g["commit"], g["path"] = _cached_snapshot(gen.model, gen.revision)
    e: dict[str, Any] = {"name": enc.name, "source": enc.source, "model": enc.model, "pretrained": enc.pretrained,
                         "allow_pickle": enc.allow_pickle}
    if enc.source == "tiny":
        e["path"] = str(_tiny_dir("encoder", enc.model))
        e["config"] = TINY_ENCODERS.get(enc.model)
    elif enc.source == "local":
        e["path"] = str(resolve_path(enc.model))
    elif enc.pretrained is not None:
        try:
            import open_clip

            cfg = open_clip.get_pretrained_cfg(enc.model, enc.pretrained) or {}
        except Exception:  # pragma: no cover - describe never fails a run
            cfg = {}
        e["hf_hub"] = cfg.get("hf_hub") or None
        e["quick_gelu"] = bool(cfg.get("quick_gelu"))
    return {"generator": g, "encoder": e, "weights": params.weights}


def _cached_snapshot(repo: str, revision: str | None) -> tuple[str | None, str | None]:
    try:
        from huggingface_hub import snapshot_download

        path = snapshot_download(repo, revision=revision, local_files_only=True, allow_patterns=["model_index.json"])
    except Exception:
        return None, None
    return Path(path).name, path
