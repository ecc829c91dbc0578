"""The generation loop: built to be interrupted and sharded without changing a single pixel.

- each image gets its own ``torch.Generator`` seeded from its job (:mod:`helpers.generation.jobs`);
- batches are cut from the full job list in a fixed order and dealt round-robin, so any number of
  processes feeds the pipeline exactly the batches one process would;
- each image is written atomically with its settings fingerprint in the PNG metadata; a rerun skips a
  batch only when all its images decode and carry the fingerprint;
- a folder of images made with other pixel-changing settings (``generation.json``) is refused.
"""

from __future__ import annotations

import contextlib
import io
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..cores import usable_cores
from ..errors import AuditError
from ..files import atomic_write_bytes, fsync_dir, json_digest, package_versions, write_json
from ..models import generator_identity, load_pipeline, resolve_device
from ..paths import ImagePaths
from ..schema import Configuration, GenerationParams
from .jobs import Job

__all__ = ["settings", "fingerprint", "generate", "image_text", "cpu_threads"]

_PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"


def cpu_threads(gen: GenerationParams, world_size: int = 1) -> int:
    """The intra-op threads each of ``world_size`` processes generates with on a CPU: ``generation.cpu_threads``,
    or for ``all`` this machine's cores shared out among the processes (at least one)."""
    if gen.cpu_threads != "all":
        return gen.cpu_threads
    return max(1, usable_cores() // world_size)


def settings(
    gen: GenerationParams,
    config: Configuration,
    device: str | None = None,
    dtype: str | None = None,
    world_size: int = 1,
) -> dict[str, Any]:
    """Everything that changes pixels, resolved (``auto`` device and dtype made concrete; on a CPU, the
    thread count)."""
    dev, dt = resolve_device(device or gen.device, dtype or gen.dtype)
    cuda = dev.type == "cuda"
    call = gen.call_settings(config.generator)
    return {
        "generator": generator_identity(config.generator),
        "scheduler": call["scheduler"],
        "steps": call["steps"],
        "guidance_scale": call["guidance_scale"],
        "height": call["height"],
        "width": call["width"],
        "negative_prompt": gen.negative_prompt,
        "template": config.template,
        "run_seed": config.seed,
        "device": dev.type,
        "dtype": str(dt).removeprefix("torch."),
        "batch_size": gen.batch_size,
        "safety_checker": gen.safety_checker,
        "channels_last": gen.channels_last and cuda,
        "compile": gen.compile and cuda,
        "vae_slicing": gen.vae_slicing,
        "vae_tiling": gen.vae_tiling,
        "cpu_threads": cpu_threads(gen, world_size) if dev.type == "cpu" else None,
    }


def fingerprint(current: dict[str, Any]) -> str:
    """16 hex digits identifying the settings an image was made with (stored in its PNG text)."""
    return json_digest(current, 16)


@contextlib.contextmanager
def _threads(n: int | None):
    import torch

    if n is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def check_settings(images: ImagePaths, current: dict[str, Any], *, write: bool) -> None:
    """Refuse a folder of images made with other settings; record the settings when the folder is new."""
    path = images.settings
    if path.is_file():
        try:
            old = json.loads(path.read_text(encoding="utf-8"))["settings"]
        except (ValueError, KeyError, TypeError):
            raise AuditError(
                f"{path} is unreadable",
                fix="delete it if the images in that folder should be kept, else the run folder",
            ) from None
        diff = sorted(k for k in set(old) | set(current) if old.get(k) != current.get(k))
        if diff:
            shown = "; ".join(f"{k}: {old.get(k)!r} there, {current.get(k)!r} now" for k in diff)
            raise AuditError(
                f"image folder {images.root} holds images made with other settings ({shown})",
                fix="give the run a new 'run:' name, or delete that run folder to start again with these settings",
            )
        return
    if write:
        record = {
            "fingerprint": fingerprint(current),
            "settings": current,
            "versions": package_versions(("torch", "diffusers", "transformers", "pillow")),
        }
        write_json(path, record)


# -- image files ---------------------------------------------------------------------------------------------


def _png_bytes(image, job: Job, fp: str, blacked_out: bool | None) -> bytes:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("prompt", job.prompt)
    info.add_text("seed", str(job.seed))
    info.add_text("fingerprint", fp)
    if blacked_out is not None:
        info.add_text("blacked_out", "true" if blacked_out else "false")
    buf = io.BytesIO()
    image.convert("RGB").save(buf, format="PNG", pnginfo=info, compress_level=6, optimize=False)
    return buf.getvalue()


def image_text(path: Path) -> dict[str, str] | None:
    """The PNG text of a complete, fully decodable image file, else ``None``."""
    from PIL import Image

    try:
        with open(path, "rb") as fh:
            data = fh.read()
        if not data.endswith(_PNG_END):
            return None
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            return dict(getattr(img, "text", {}) or {})
    except (OSError, ValueError, SyntaxError):
        return None


def _valid(path: Path, fp: str) -> bool:
    text = image_text(path)
    return text is not None and text.get("fingerprint") == fp


# -- the loop ------------------------------------------------------------------------------------------------


class _Loader:
    """The pipeline, loaded on first use."""

    def __init__(self, gen: GenerationParams, config: Configuration, device: str | None, pipeline=None):
        self.gen, self.config, self.device, self.pipeline = gen, config, device, pipeline
        self.dtype: str | None = None
        if pipeline is not None:
            self.device = device or str(pipeline.device)
            self.dtype = str(pipeline.dtype).removeprefix("torch.")

    def __call__(self):
        if self.pipeline is None:
            self.pipeline = load_pipeline(
                self.config.generator,
                self.gen,
                device=self.device,
                index=self.gen.generators.index(self.config.generator),
            )
        return self.pipeline


def generate(
    gen: GenerationParams,
    config: Configuration,
    jobs: Sequence[Job],
    root: Path,
    images: ImagePaths,
    *,
    pipeline=None,
    rank: int = 0,
    world_size: int = 1,
    progress: bool = True,
    device: str | None = None,
) -> dict[str, Any]:
    """Make the images of ``jobs`` under ``root`` (the run folder; job paths are relative to it), with the
    settings recorded in ``images.settings``; this process does shard ``rank`` of ``world_size``. Batches
    are ``jobs[b*bs:(b+1)*bs]``; batch ``b`` belongs to rank ``b % world_size``. The pipeline is loaded
    (once, only if some image is missing) unless one is passed.

    Returns ``{"generated": n, "skipped": n, "seconds": s}`` for this shard.
    """
    return _generate(
        gen, config, jobs, Path(root), images, _Loader(gen, config, device, pipeline), rank, world_size, progress
    )


def _generate(
    gen, config, jobs, root: Path, images: ImagePaths, loader: _Loader, rank: int, world_size: int, progress: bool
):
    import torch
    from tqdm.auto import tqdm

    current = settings(gen, config, loader.device, loader.dtype, world_size)
    fp = fingerprint(current)
    check_settings(images, current, write=rank == 0)
    bs = gen.batch_size
    batches = [list(jobs[i : i + bs]) for i in range(0, len(jobs), bs)]
    mine = [b for i, b in enumerate(batches) if i % world_size == rank]
    for batch in mine:
        for job in batch:
            (root / job.path).with_name(f".{Path(job.path).name}.tmp").unlink(missing_ok=True)
    todo = [b for b in mine if not all(_valid(root / j.path, fp) for j in b)]
    done = sum(len(b) for b in mine) - sum(len(b) for b in todo)
    stats: dict[str, Any] = {"generated": 0, "skipped": done, "seconds": 0.0}
    if not todo:
        return stats
    pipeline = loader()
    negative = gen.negative_prompt or None
    call = gen.call_settings(config.generator)
    start = time.perf_counter()
    bar = tqdm(
        total=sum(len(b) for b in mine), initial=done, unit="img", desc="generating", disable=not progress or rank != 0
    )
    for batch in todo:
        with _threads(current["cpu_threads"]):
            out = pipeline(
                prompt=[j.prompt for j in batch],
                negative_prompt=[negative] * len(batch) if negative else None,
                height=call["height"],
                width=call["width"],
                num_inference_steps=call["steps"],
                guidance_scale=call["guidance_scale"],
                generator=[torch.Generator("cpu").manual_seed(j.seed) for j in batch],
                output_type="pil",
            )
        flags = out.nsfw_content_detected if gen.safety_checker else None
        folders = set()
        for i, (job, image) in enumerate(zip(batch, out.images, strict=True)):
            flagged = bool(flags[i]) if flags is not None else None
            atomic_write_bytes(root / job.path, _png_bytes(image, job, fp, flagged), fixed_temp=True)
            folders.add((root / job.path).parent)
        for folder in folders:
            fsync_dir(folder)
        stats["generated"] += len(batch)
        bar.update(len(batch))
    bar.close()
    stats["seconds"] = time.perf_counter() - start
    return stats
