"""Stage 02: the imitations. Every name gets N images from the prompt template, each with its own seed.

The loop is built to be interrupted and sharded without changing a single pixel:

- each image's seed comes from the run seed, the name, the template and the image index
  (:func:`image_seed`), and each image gets its own ``torch.Generator``;
- batches are cut from the full job list in a fixed order, so a resumed or sharded run feeds the
  pipeline exactly the batches an uninterrupted run would;
- each image is written atomically (temporary file, fsync, rename) with its settings fingerprint in
  the PNG metadata; a rerun skips a batch only when all its images decode and carry the fingerprint;
- a run folder made with other pixel-changing settings (``images/generation.json``) is refused.

Run it as ``python -m helpers.generation --params FILE`` (one device) or
``accelerate launch -m helpers.generation --params FILE`` (several processes, GPUs or machines); both
write the same bytes.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import AuditError, exit_on_error
from .names import slug
from .params import Params, render_prompt
from .run import read_names, read_table, write_table

__all__ = [
    "Job",
    "image_seed",
    "plan",
    "settings",
    "generate",
    "write_manifest",
    "write_real_manifest",
    "run_stage",
    "main",
    "NAMESPACES",
    "CPU_THREADS",
]

NAMESPACES = {"imitation": 0, "standin": 1}
"""Seed namespaces: the namespace sets bit 62 of the seed, so the two sets of seeds never meet."""

CPU_THREADS = 1
"""Intra-op threads for generation on a CPU. CPU float results depend on the thread count, so it is fixed
(and recorded in the fingerprint): one process or several, the bytes are the same. Use processes
(``accelerate launch --cpu --num_processes N``) to use more cores."""

_PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"
_SETTINGS_FILE = "generation.json"


# -- seeds and jobs ------------------------------------------------------------------------------------------


def image_seed(run_seed: int, namespace: str, group: str, name: str, template: str, index: int) -> int:
    """The seed of one image: 62 bits of SHA-256 of the canonical JSON of the inputs, with the namespace
    in bit 62 (so seeds of different namespaces are disjoint by construction). Always < 2**63."""
    if namespace not in NAMESPACES:
        raise ValueError(f"unknown seed namespace {namespace!r}; use one of {sorted(NAMESPACES)}")
    payload = json.dumps(
        {"run_seed": int(run_seed), "namespace": namespace, "group": group, "name": name,
         "template": template, "index": int(index)},
        sort_keys=True, ensure_ascii=False, separators=(",", ":"),
    )  # fmt: skip
    low = int.from_bytes(hashlib.sha256(payload.encode("utf-8")).digest()[:8], "big") & ((1 << 62) - 1)
    return (NAMESPACES[namespace] << 62) | low


@dataclass(frozen=True)
class Job:
    """One image to make. ``path`` is relative to the run folder (POSIX separators)."""

    group: str
    name: str
    template: str
    prompt: str
    index: int
    seed: int
    path: str


def plan(
    params: Params, names: dict[str, list[str]], *, namespace: str = "imitation", count: int | None = None
) -> list[Job]:
    """Every image of ``names`` (group → names), in a fixed order: group, name, index.

    ``count`` images per name (default ``generation.images_per_name``). Stand-ins (``namespace="standin"``)
    go under ``real_standin/<slug>/``, imitations under ``images/<group>/<slug>/``.
    """
    count = params.generation.images_per_name if count is None else count
    template = params.template
    jobs: list[Job] = []
    for group, members in names.items():
        for name in members:
            folder = f"real_standin/{slug(name)}" if namespace == "standin" else f"images/{group}/{slug(name)}"
            for index in range(count):
                jobs.append(
                    Job(
                        group=group,
                        name=name,
                        template=template,
                        prompt=render_prompt(template, name),
                        index=index,
                        seed=image_seed(params.seed, namespace, group, name, template, index),
                        path=f"{folder}/{index:03d}.png",
                    )
                )
    return jobs


# -- settings fingerprint ----------------------------------------------------------------------------------


def settings(params: Params, device: str | None = None, dtype: str | None = None) -> dict[str, Any]:
    """Everything that changes pixels, resolved (``auto`` device and dtype made concrete)."""
    from .models import generator_identity, resolve_device

    g = params.generation
    dev, dt = resolve_device(device or g.device, dtype or g.dtype)
    cuda = dev.type == "cuda"
    return {
        "generator": generator_identity(params.generator),
        "scheduler": g.scheduler,
        "steps": g.steps,
        "guidance_scale": g.guidance_scale,
        "height": g.height,
        "width": g.width,
        "negative_prompt": g.negative_prompt,
        "template": params.template,
        "run_seed": params.seed,
        "device": dev.type,
        "dtype": str(dt).removeprefix("torch."),
        "batch_size": g.batch_size,
        "safety_checker": g.safety_checker,
        "channels_last": g.channels_last and cuda,
        "compile": g.compile and cuda,
        "vae_slicing": g.vae_slicing,
        "vae_tiling": g.vae_tiling,
        "cpu_threads": CPU_THREADS if dev.type == "cpu" else None,
    }


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


def _fingerprint(s: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(s, sort_keys=True).encode()).hexdigest()[:16]


def _check_settings(root: Path, current: dict[str, Any], *, write: bool) -> None:
    """Refuse a run folder made with other settings; record the settings when the folder is new."""
    path = root / "images" / _SETTINGS_FILE
    if path.is_file():
        try:
            old = json.loads(path.read_text(encoding="utf-8"))["settings"]
        except (ValueError, KeyError, TypeError):
            raise AuditError(
                f"{path} is unreadable", fix="delete it if the images in that folder should be kept, else the run folder"
            ) from None
        diff = sorted(k for k in set(old) | set(current) if old.get(k) != current.get(k))
        if diff:
            shown = "; ".join(f"{k}: {old.get(k)!r} there, {current.get(k)!r} now" for k in diff)
            raise AuditError(
                f"run folder {root} holds images made with other settings ({shown})",
                fix="give the run a new 'run:' name, or delete that run folder to start again with these settings",
            )
        return
    if write:
        record = {"fingerprint": _fingerprint(current), "settings": current, "versions": _versions()}
        _write_atomic(path, (json.dumps(record, indent=2, sort_keys=True) + "\n").encode())


def _versions() -> dict[str, str]:
    from importlib import metadata

    out = {}
    for pkg in ("torch", "diffusers", "transformers", "pillow"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:  # pragma: no cover
            out[pkg] = "missing"
    return out


# -- files ---------------------------------------------------------------------------------------------------


def _tmp_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp")


def _write_atomic(path: Path, data: bytes) -> None:
    """Write through ``.<name>.tmp`` in the same folder, fsync, rename. One writer per path: the temporary
    name is fixed, so a file left by a killed process is overwritten or removed by the next run (unlike
    :func:`helpers.run.atomic_write_bytes`, whose unique temporary names suit files with several writers)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_path(path)
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory handles
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _png_bytes(image, job: Job, fingerprint: str, blacked_out: bool | None) -> bytes:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("prompt", job.prompt)
    info.add_text("seed", str(job.seed))
    info.add_text("fingerprint", fingerprint)
    if blacked_out is not None:
        info.add_text("blacked_out", "true" if blacked_out else "false")
    buf = io.BytesIO()
    image.convert("RGB").save(buf, format="PNG", pnginfo=info, compress_level=6, optimize=False)
    return buf.getvalue()


def _image_text(path: Path) -> dict[str, str] | None:
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


def _valid(path: Path, fingerprint: str) -> bool:
    text = _image_text(path)
    return text is not None and text.get("fingerprint") == fingerprint


# -- the loop ------------------------------------------------------------------------------------------------


def generate(
    params: Params,
    jobs: Sequence[Job],
    root: Path,
    *,
    pipeline=None,
    rank: int = 0,
    world_size: int = 1,
    progress: bool = True,
    device: str | None = None,
) -> dict[str, Any]:
    """Make the images of ``jobs`` under ``root`` (the run folder); this process does shard ``rank`` of
    ``world_size``. Batches are ``jobs[b*bs:(b+1)*bs]``; batch ``b`` belongs to rank ``b % world_size``.
    The pipeline is loaded (once, only if some image is missing) unless one is passed.

    Returns ``{"generated": n, "skipped": n, "seconds": s}`` for this shard.
    """
    loader = _Loader(params, device, pipeline)
    return _generate(params, jobs, Path(root), loader, rank, world_size, progress)


class _Loader:
    """The pipeline, loaded on first use."""

    def __init__(self, params: Params, device: str | None, pipeline=None):
        self.params, self.device, self.pipeline = params, device, pipeline
        if pipeline is not None:
            self.device = device or str(pipeline.device)
            self.dtype: str | None = str(pipeline.unet.dtype).removeprefix("torch.")
        else:
            self.dtype = None

    def __call__(self):
        if self.pipeline is None:
            from .models import load_pipeline

            self.pipeline = load_pipeline(self.params.generator, self.params.generation, device=self.device)
        return self.pipeline


def _generate(params, jobs, root: Path, loader: _Loader, rank: int, world_size: int, progress: bool):
    import torch
    from tqdm.auto import tqdm

    g = params.generation
    current = settings(params, loader.device, loader.dtype)
    fingerprint = _fingerprint(current)
    _check_settings(root, current, write=rank == 0)
    bs = g.batch_size
    batches = [list(jobs[i : i + bs]) for i in range(0, len(jobs), bs)]
    mine = [b for i, b in enumerate(batches) if i % world_size == rank]
    for batch in mine:
        for job in batch:
            _tmp_path(root / job.path).unlink(missing_ok=True)
    todo = [b for b in mine if not all(_valid(root / j.path, fingerprint) for j in b)]
    done = sum(len(b) for b in mine) - sum(len(b) for b in todo)
    stats: dict[str, Any] = {"generated": 0, "skipped": done, "seconds": 0.0}
    if not todo:
        return stats
    pipeline = loader()
    negative = g.negative_prompt or None
    start = time.perf_counter()
    bar = tqdm(total=sum(len(b) for b in mine), initial=done, unit="img", desc="generating",
               disable=not progress or rank != 0)  # fmt: skip
    for batch in todo:
        with _threads(current["cpu_threads"]):
            out = pipeline(
                prompt=[j.prompt for j in batch],
                negative_prompt=[negative] * len(batch) if negative else None,
                height=g.height,
                width=g.width,
                num_inference_steps=g.steps,
                guidance_scale=g.guidance_scale,
                generator=[torch.Generator("cpu").manual_seed(j.seed) for j in batch],
                output_type="pil",
            )
        flags = out.nsfw_content_detected if g.safety_checker else None
        folders = set()
        for i, (job, image) in enumerate(zip(batch, out.images, strict=True)):
            flagged = bool(flags[i]) if flags is not None else None
            _write_atomic(root / job.path, _png_bytes(image, job, fingerprint, flagged))
            folders.add((root / job.path).parent)
        for folder in folders:
            _fsync_dir(folder)
        stats["generated"] += len(batch)
        bar.update(len(batch))
    bar.close()
    stats["seconds"] = time.perf_counter() - start
    return stats


# -- manifests -----------------------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _missing(jobs: Iterable[Job], root: Path) -> list[str]:
    return [j.path for j in jobs if _image_text(root / j.path) is None]


def write_manifest(jobs: Sequence[Job], root: Path, path: Path):
    """Write the CSV of ``jobs`` (``name, group, template, prompt, index, seed, path, sha256``, and
    ``blacked_out`` when the safety checker ran) atomically, once every image exists. Returns the table."""
    import pandas as pd

    root = Path(root)
    texts = [_image_text(root / j.path) for j in jobs]
    missing = [j.path for j, t in zip(jobs, texts, strict=True) if t is None]
    if missing:
        raise AuditError(
            f"{len(missing)} image(s) are missing or unreadable, e.g. {', '.join(missing[:3])}",
            where=str(root),
            fix="run the generation stage again: it makes only what is missing",
        )
    rows = []
    for j, text in zip(jobs, texts, strict=True):
        row = {"name": j.name, "group": j.group, "template": j.template, "prompt": j.prompt,
               "index": j.index, "seed": str(j.seed), "path": j.path, "sha256": _sha256(root / j.path)}  # fmt: skip
        if text and "blacked_out" in text:
            row["blacked_out"] = text["blacked_out"] == "true"
        rows.append(row)
    columns = ["name", "group", "template", "prompt", "index", "seed", "path", "sha256"]
    if any("blacked_out" in r for r in rows):
        columns.append("blacked_out")
    df = pd.DataFrame(rows, columns=columns)
    write_table(df, Path(path))
    return df


def write_real_manifest(jobs: Sequence[Job], root: Path, path: Path):
    """``real_works.csv`` for stand-in real works: ``artist, path, sha256, source`` with source ``standin``."""
    import pandas as pd

    root = Path(root)
    missing = _missing(jobs, root)
    if missing:
        raise AuditError(f"{len(missing)} stand-in image(s) are missing, e.g. {', '.join(missing[:3])}",
                         where=str(root), fix="run the generation stage again")  # fmt: skip
    df = pd.DataFrame(
        [{"artist": j.name, "path": j.path, "sha256": _sha256(root / j.path), "source": "standin"} for j in jobs],
        columns=["artist", "path", "sha256", "source"],
    )
    write_table(df, Path(path))
    return df


# -- the stage -----------------------------------------------------------------------------------------------


def run_stage(params: Params, *, progress: bool = True):
    """Generate every imitation (and the smoke profile's stand-in real works), then write
    ``images/manifest.csv`` (and ``real_works.csv``). Under ``accelerate launch`` each process makes its
    shard; rank 0 writes the manifests after all finished. Returns the manifest table."""
    from accelerate import PartialState


    state = PartialState()
    paths = params.paths
    root = paths.root
    names = read_names(paths)
    jobs = plan(params, names)
    standins = (
        plan(params, {"real": names["artists"]}, namespace="standin", count=params.validation.standin_per_artist)
        if params.validation.standin
        else []
    )
    g = params.generation
    device = str(state.device) if g.device == "auto" else g.device
    current = settings(params, device)
    if state.is_main_process:
        _check_settings(root, current, write=True)
    state.wait_for_everyone()
    loader = _Loader(params, device)
    for group_jobs in (jobs, standins):
        if group_jobs:
            _generate(params, group_jobs, root, loader, state.process_index, state.num_processes, progress)
    state.wait_for_everyone()
    if state.is_main_process:
        write_manifest(jobs, root, paths.manifest)
        if standins:
            write_real_manifest(standins, root, paths.real_manifest)
    state.wait_for_everyone()
    return read_table(paths.manifest)


@exit_on_error
def main(argv: list[str] | None = None) -> None:
    """``python -m helpers.generation --params FILE``; also under ``accelerate launch -m``."""
    from . import params as P

    ap = argparse.ArgumentParser(prog="python -m helpers.generation", description=__doc__.split("\n\n")[0])
    ap.add_argument("--params", required=True, help="params YAML, e.g. params/smoke.yaml")
    ap.add_argument("--no-progress", action="store_true", help="no progress bar")
    ns = ap.parse_args(argv)
    run_stage(P.load(ns.params), progress=not ns.no_progress)


if __name__ == "__main__":
    main(sys.argv[1:])
