"""Stage 03: CLIP embeddings of every image and every label prompt, L2-normalised and cached by content.

The cache key of an image is the SHA-256 of its bytes; of a text, the SHA-256 of ``"text:" + text``.
Vectors live under ``CACHE_DIR/embeddings/<model>/`` in one ``.npz`` shard per write, each holding its
keys, its vectors, and the model key and dimension they belong to, checked on load — a half-written or
foreign shard is never used. So a rerun, or another run with the same encoder, computes nothing twice.
"""

from __future__ import annotations

import hashlib
import io
import logging
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import paths as _paths
from .errors import AuditError
from .params import Params, render_prompt
from .run import (
    GROUPS,
    atomic_write_bytes,
    read_names,
    read_real_works,
    read_table,
    resolve_in_run,
    write_json,
    write_table,
)

__all__ = [
    "EmbeddingCache",
    "image_key",
    "text_key",
    "encode_images",
    "encode_texts",
    "run_stage",
]

log = logging.getLogger(__name__)


def image_key(data: bytes) -> str:
    """Cache key of an image: SHA-256 of its file bytes."""
    return hashlib.sha256(data).hexdigest()


def text_key(text: str) -> str:
    """Cache key of a text: SHA-256 of ``"text:" + text`` (UTF-8)."""
    return hashlib.sha256(("text:" + text).encode("utf-8")).hexdigest()


class EmbeddingCache:
    """Content-addressed vectors of one model (``model_key``, e.g. :attr:`Encoder.key`).

    ``get`` returns what is cached; ``put`` writes one new shard atomically. Shards whose stored model key,
    dimension or shape disagree, or that cannot be read, are ignored with a warning and deleted.
    """

    def __init__(self, model_key: str, root: Path | None = None):
        self.model_key = model_key
        self.root = Path(root) if root is not None else _paths.CACHE_DIR / "embeddings"
        self.folder = self.root / hashlib.sha256(model_key.encode("utf-8")).hexdigest()[:16]
        self.dim: int | None = None
        self._vectors: dict[str, np.ndarray] | None = None

    def _load(self) -> dict[str, np.ndarray]:
        if self._vectors is not None:
            return self._vectors
        store: dict[str, np.ndarray] = {}
        for shard in sorted(self.folder.glob("*.npz")) if self.folder.is_dir() else []:
            if shard.name.startswith("."):
                continue
            problem = self._read(shard, store)
            if problem:
                msg = f"embedding cache shard {shard} ignored and removed: {problem}"
                warnings.warn(msg, stacklevel=3)
                log.warning(msg)
                shard.unlink(missing_ok=True)
        self._vectors = store
        return store

    def _read(self, shard: Path, store: dict[str, np.ndarray]) -> str:
        try:
            with np.load(shard, allow_pickle=False) as z:
                keys, vectors = z["keys"], z["vectors"]
                model_key, dim = str(z["model_key"]), int(z["dim"])
        except Exception as exc:  # a truncated zip, a bad CRC, a missing array: all mean "do not use"
            return f"unreadable ({type(exc).__name__}: {exc})"
        if model_key != self.model_key:
            return f"made by model {model_key!r}, not {self.model_key!r}"
        if vectors.dtype != np.float32 or vectors.ndim != 2 or vectors.shape != (len(keys), dim):
            return f"vectors of shape {vectors.shape} ({vectors.dtype}) for {len(keys)} keys of dimension {dim}"
        if self.dim is not None and dim != self.dim:
            return f"dimension {dim}, other shards {self.dim}"
        if not np.isfinite(vectors).all():
            return "non-finite values"
        self.dim = dim
        for k, v in zip(keys.tolist(), vectors, strict=True):
            store[k] = v
        return ""

    def __len__(self) -> int:
        return len(self._load())

    def __contains__(self, key: str) -> bool:
        return key in self._load()

    def get(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        """The cached vectors among ``keys``."""
        store = self._load()
        return {k: store[k] for k in keys if k in store}

    def put(self, keys: Sequence[str], vectors: np.ndarray) -> None:
        """Store ``vectors`` (float32 ``[len(keys), dim]``) in a new shard, written atomically."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or len(keys) != len(vectors):
            raise ValueError(f"{len(keys)} keys but vectors of shape {vectors.shape}")
        if not len(keys):
            return
        store = self._load()
        if self.dim is not None and vectors.shape[1] != self.dim:
            raise ValueError(f"vectors of dimension {vectors.shape[1]} for a cache of dimension {self.dim}")
        buf = io.BytesIO()
        np.savez(buf, keys=np.asarray(list(keys), dtype=str), vectors=vectors,
                 model_key=np.asarray(self.model_key), dim=np.asarray(vectors.shape[1]))  # fmt: skip
        name = hashlib.sha256("\n".join(keys).encode()).hexdigest()[:24]
        atomic_write_bytes(self.folder / f"{name}.npz", buf.getvalue())
        self.dim = vectors.shape[1]
        for k, v in zip(keys, vectors, strict=True):
            store[k] = v


# -- images --------------------------------------------------------------------------------------------------


class _Images:
    """Decode and preprocess images in DataLoader workers; report failures instead of raising there."""

    def __init__(self, paths: Sequence[Path], keys: Sequence[str], preprocess):
        self.paths, self.keys, self.preprocess = list(paths), list(keys), preprocess

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int):
        from PIL import Image

        path = self.paths[i]
        try:
            data = Path(path).read_bytes()
            if image_key(data) != self.keys[i]:
                return i, None, "the file changed while it was being encoded"
            with Image.open(io.BytesIO(data)) as img:
                return i, self.preprocess(img.convert("RGB")), ""
        except Exception as exc:  # noqa: BLE001 - any decode failure is reported with the path
            return i, None, f"{type(exc).__name__}: {exc}"


def _collate(items):
    import torch

    good = [(i, t) for i, t, err in items if not err]
    bad = [(i, err) for i, _, err in items if err]
    pixels = torch.stack([t for _, t in good]) if good else None
    return [i for i, _ in good], pixels, bad


def _read_keys(paths: Sequence[Path]) -> list[str]:
    keys = []
    for p in paths:
        try:
            keys.append(image_key(Path(p).read_bytes()))
        except OSError as exc:
            raise AuditError(f"cannot read image {p} ({exc.strerror or exc})", fix="restore the file or rerun the stage that made it") from None
    return keys


def _through_cache(keys: Sequence[str], items: Sequence, cache, dim: int, compute) -> np.ndarray:
    """Vectors for ``keys`` (float32 ``[N, dim]``): cached ones from ``cache``, the rest from
    ``compute({key: item})`` (each distinct key once), which returns ``{key: vector}``."""
    found = cache.get(keys) if cache is not None else {}
    todo: dict[str, Any] = {}
    for k, item in zip(keys, items, strict=True):
        if k not in found and k not in todo:
            todo[k] = item
    computed = compute(todo) if todo else {}
    out = np.empty((len(keys), dim), dtype=np.float32)
    for row, k in enumerate(keys):
        out[row] = computed[k] if k in computed else found[k]
    return out


def _encode_images(encoder, paths, *, batch_size, num_workers, cache, progress):
    paths = [Path(p) for p in paths]
    keys = _read_keys(paths)

    def compute(todo: dict[str, Path]) -> dict[str, np.ndarray]:
        import torch
        from tqdm.auto import tqdm

        todo_keys = list(todo)
        loader = torch.utils.data.DataLoader(
            _Images(list(todo.values()), todo_keys, encoder.preprocess),
            batch_size=batch_size,
            num_workers=num_workers,
            collate_fn=_collate,
            pin_memory=encoder.device.type == "cuda",
            prefetch_factor=4 if num_workers else None,
        )
        computed: dict[str, np.ndarray] = {}
        with tqdm(total=len(todo), unit="img", desc="encoding images", disable=not progress) as bar:
            for idx, pixels, bad in loader:
                if bad:
                    i, err = bad[0]
                    raise AuditError(
                        f"cannot decode image {todo[todo_keys[i]]} ({err})",
                        fix="restore or remove the file (for generated images: rerun 02_generation, which remakes it)",
                    )
                vectors = encoder.encode_pixels(pixels).numpy().astype(np.float32, copy=False)
                batch_keys = [todo_keys[i] for i in idx]
                if cache is not None:
                    cache.put(batch_keys, vectors)  # per batch: an interrupted run keeps what it computed
                computed.update(zip(batch_keys, vectors, strict=True))
                bar.update(len(idx))
        return computed

    return _through_cache(keys, paths, cache, encoder.dim, compute), keys


def encode_images(encoder, paths, *, batch_size: int = 64, num_workers: int = 2, cache: EmbeddingCache | None = None,
                  progress: bool = True) -> np.ndarray:  # fmt: skip
    """Embeddings (float32 ``[N, D]``, rows L2-normalised) of the image files ``paths``.

    Workers decode and preprocess; only images missing from ``cache`` are computed (and then cached).
    An unreadable image raises :class:`AuditError` naming its path.
    """
    return _encode_images(encoder, paths, batch_size=batch_size, num_workers=num_workers, cache=cache,
                          progress=progress)[0]  # fmt: skip


def encode_texts(encoder, texts: Sequence[str], *, batch_size: int = 256, cache: EmbeddingCache | None = None) -> np.ndarray:
    """Embeddings (float32 ``[N, D]``, rows L2-normalised) of ``texts``; only texts missing from ``cache``
    are computed."""

    def compute(todo: dict[str, str]) -> dict[str, np.ndarray]:
        computed: dict[str, np.ndarray] = {}
        items = list(todo.items())
        for start in range(0, len(items), batch_size):
            chunk = items[start : start + batch_size]
            tokens = encoder.tokenizer([t for _, t in chunk])
            vectors = encoder.encode_tokens(tokens).numpy().astype(np.float32, copy=False)
            computed.update(zip([k for k, _ in chunk], vectors, strict=True))
        if cache is not None:
            cache.put(list(computed), np.stack(list(computed.values())))
        return computed

    return _through_cache([text_key(t) for t in texts], list(texts), cache, encoder.dim, compute)


# -- the stage -----------------------------------------------------------------------------------------------


def _image_table(params: Params):
    """Every image the run embeds: imitations from the manifest, then the real works of real_works.csv."""
    import pandas as pd

    paths = params.paths
    manifest = read_table(paths.manifest, needs="02_generation")
    rows = pd.DataFrame({
        "kind": "imitation", "group": manifest["group"], "name": manifest["name"],
        "index": manifest["index"].astype(int), "path": manifest["path"], "sha256": manifest["sha256"],
    })  # fmt: skip
    real = read_real_works(paths)
    if len(real):
        rows = pd.concat([rows, pd.DataFrame({
            "kind": "real", "group": "real", "name": real["artist"],
            "index": real.groupby("artist", sort=False).cumcount(), "path": real["path"], "sha256": real["sha256"],
        })], ignore_index=True)  # fmt: skip
    rows.insert(0, "row", range(len(rows)))
    return rows


def _label_table(params: Params, names: dict[str, list[str]]):
    import pandas as pd

    template = params.classification.label_template
    rows = [(g, n, render_prompt(template, n)) for g in GROUPS for n in names[g]]
    df = pd.DataFrame(rows, columns=["group", "name", "text"])
    df.insert(0, "row", range(len(df)))
    return df


def _npy_bytes(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(a, dtype=np.float32), allow_pickle=False)
    return buf.getvalue()


def run_stage(params: Params, *, progress: bool = True) -> dict[str, Any]:
    """Embed every image of ``images/manifest.csv`` and ``real_works.csv`` and every label prompt, and write
    ``embeddings/`` (``images.npy/.csv``, ``labels.npy/.csv``, ``encoder.json``). Returns ``encoder.json``."""
    from .models import load_encoder

    paths = params.paths
    e = params.encoding
    images = _image_table(params)
    labels = _label_table(params, read_names(paths))
    encoder = load_encoder(params.encoder, device=e.device, dtype=e.dtype)
    cache = EmbeddingCache(encoder.key)
    files = [resolve_in_run(paths, p) for p in images["path"]]
    vectors, keys = _encode_images(encoder, files, batch_size=e.batch_size, num_workers=e.num_workers, cache=cache,
                                   progress=progress)  # fmt: skip
    changed = [str(f) for f, k, want in zip(files, keys, images["sha256"], strict=True) if want and k != want]
    if changed:
        raise AuditError(
            f"{len(changed)} image(s) differ from the hash their manifest records, e.g. {changed[0]}",
            fix="rerun the stage that recorded them (02_generation for generated images, 01_selection for real works)",
        )
    label_vectors = encode_texts(encoder, labels["text"].tolist(), batch_size=max(e.batch_size, 256), cache=cache)
    out = paths.embeddings
    atomic_write_bytes(out / "images.npy", _npy_bytes(vectors))
    write_table(images, out / "images.csv")
    atomic_write_bytes(out / "labels.npy", _npy_bytes(label_vectors))
    write_table(labels, out / "labels.csv")
    info = {
        "spec": params.encoder.model_dump(),
        "key": encoder.key,
        "dim": encoder.dim,
        "weights": "random" if params.encoder.random_weights else "pretrained",
        "device": str(encoder.device),
        "precision": encoder.key.rsplit("|", 1)[-1],
        "checkpoint": encoder.checkpoint,
        "n_images": int(len(images)),
        "n_labels": int(len(labels)),
    }
    write_json(out / "encoder.json", info)
    return info
