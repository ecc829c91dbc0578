"""Stage 03, encoding: CLIP embeddings of every image and every label prompt, L2-normalised and cached by
content; this module writes stage 03's products (``embeddings/``) and reads them back for later stages.

The cache key of an image is the SHA-256 of its bytes; of a text, the SHA-256 of ``"text:" + text``.
Vectors live under ``CACHE_DIR/embeddings/<model>/`` in one ``.npz`` shard per write, each holding its
keys, its vectors, and the model key and dimension they belong to, checked on load — a half-written or
foreign shard is never used. So a rerun, or another run or configuration with the same encoder, computes
nothing twice.

A configuration with a transform (params ``transforms``, :mod:`helpers.transforms`) encodes its images after
the chain: each transformed image is a derived product in ``CACHE_DIR/transformed/<chain digest>/``, named by
:func:`helpers.transforms.derived_key` (the source's hash, the chain's digest, the hashes of the folder images
it reads) and written once; its embedding is cached by its own bytes like any image. ``images.csv`` keeps the
source image's path and hash; ``encoder.json`` says which chain ran on which kind of image.
"""

from __future__ import annotations

import io
import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import paths as _paths
from . import plots, provenance, transforms
from .embeddings import Embeddings
from .errors import AuditError
from .files import Columns, atomic_write_bytes, read_json, read_table, sha256_bytes, write_json, write_table
from .models import Encoder, load_encoder
from .paths import ConfigPaths, resolve_path
from .schema import Configuration, Params, TransformSpec, render_prompt

__all__ = [
    "EmbeddingCache",
    "image_key",
    "text_key",
    "encode_images",
    "encode_texts",
    "Embeddings",
    "EncodingResult",
    "run_stage",
    "read_embeddings",
    "read_all_embeddings",
]

log = logging.getLogger(__name__)


def image_key(data: bytes) -> str:
    """Cache key of an image: SHA-256 of its file bytes."""
    return sha256_bytes(data)


def text_key(text: str) -> str:
    """Cache key of a text: SHA-256 of ``"text:" + text`` (UTF-8)."""
    return sha256_bytes(("text:" + text).encode("utf-8"))


class EmbeddingCache:
    """Content-addressed vectors of one model (``model_key``, e.g. :attr:`Encoder.key`).

    ``get`` returns what is cached; ``put`` writes one new shard atomically. Shards whose stored model key,
    dimension or shape disagree, or that cannot be read, are ignored with a warning and deleted.
    """

    def __init__(self, model_key: str, root: Path | None = None):
        self.model_key = model_key
        self.root = Path(root) if root is not None else _paths.EMBEDDING_CACHE
        self.folder = self.root / sha256_bytes(model_key.encode("utf-8"))[:16]
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
        np.savez(
            buf,
            keys=np.asarray(list(keys), dtype=str),
            vectors=vectors,
            model_key=np.asarray(self.model_key),
            dim=np.asarray(vectors.shape[1]),
        )
        name = sha256_bytes("\n".join(keys).encode())[:24]
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
    from torch.utils.data import default_collate

    good = [(i, t) for i, t, err in items if not err]
    bad = [(i, err) for i, _, err in items if err]
    # stacked: tensors, or key by key the dicts some transformers processors give (SigLIP 2 NaFlex)
    pixels = default_collate([t for _, t in good]) if good else None
    return [i for i, _ in good], pixels, bad


def _read_keys(paths: Sequence[Path]) -> list[str]:
    keys = []
    for p in paths:
        try:
            keys.append(image_key(Path(p).read_bytes()))
        except OSError as exc:
            raise AuditError(
                f"cannot read image {p} ({exc.strerror or exc})", fix="restore the file or rerun the stage that made it"
            ) from None
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


def encode_images(
    encoder,
    paths,
    *,
    batch_size: int = 64,
    num_workers: int = 2,
    cache: EmbeddingCache | None = None,
    progress: bool = True,
) -> np.ndarray:
    """Embeddings (float32 ``[N, D]``, rows L2-normalised) of the image files ``paths``.

    Workers decode and preprocess; only images missing from ``cache`` are computed (and then cached).
    An unreadable image raises :class:`AuditError` naming its path.
    """
    return _encode_images(
        encoder, paths, batch_size=batch_size, num_workers=num_workers, cache=cache, progress=progress
    )[0]


def encode_texts(
    encoder, texts: Sequence[str], *, batch_size: int = 256, cache: EmbeddingCache | None = None
) -> np.ndarray:
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

_IMAGE_COLUMNS = Columns(row="int?", kind="text", group="text", name="text", index="int?", path="text", sha256="text")
_LABEL_COLUMNS = Columns(row="text", group="text", name="text", text="text")


def _image_table(manifest: pd.DataFrame, real_works: pd.DataFrame) -> pd.DataFrame:
    """Every image a configuration embeds: its imitations, then the real works (or stand-ins)."""
    rows = pd.DataFrame(
        {
            "kind": "imitation",
            "group": manifest["group"],
            "name": manifest["name"],
            "index": manifest["index"],
            "path": manifest["path"],
            "sha256": manifest["sha256"],
        }
    )
    if len(real_works):
        rows = pd.concat(
            [
                rows,
                pd.DataFrame(
                    {
                        "kind": "real",
                        "group": "real",
                        "name": real_works["artist"],
                        "index": real_works.groupby("artist", sort=False).cumcount(),
                        "path": real_works["path"],
                        "sha256": real_works["sha256"],
                    }
                ),
            ],
            ignore_index=True,
        )
    rows.insert(0, "row", range(len(rows)))
    return rows


def _label_table(label_template: str, names: dict[str, list[str]]) -> pd.DataFrame:
    rows = [(g, n, render_prompt(label_template, n)) for g, members in names.items() for n in members]
    df = pd.DataFrame(rows, columns=["group", "name", "text"])
    df.insert(0, "row", range(len(df)))
    return df


def _npy_bytes(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(a, dtype=np.float32), allow_pickle=False)
    return buf.getvalue()


def _check_hashes(files: Sequence[Path], keys: Sequence[str], wanted: pd.Series) -> None:
    changed = [str(f) for f, k, want in zip(files, keys, wanted, strict=True) if want and k != want]
    if changed:
        raise AuditError(
            f"{len(changed)} image(s) differ from the hash their manifest records, e.g. {changed[0]}",
            fix="rerun the stage that recorded them (02_generation for generated images, 01_selection for real works)",
        )


# -- transformed images: derived products in the content cache ------------------------------------------------


def _relative(params: Params, config: Configuration, kind: str, path: str) -> Path:
    """An image's path below its own root (the images folder of its generation setting or the folder generator's
    folder, the real-works folder or the stand-ins' folder): where a folder step looks for its counterpart."""
    paths, full = params.paths, params.paths.in_run(path)
    if kind == "imitation":
        external = [resolve_path(config.generator.path)] if config.generator.external else []
        roots = [*external, paths.images(config.generation_key).root]
    else:
        roots = [resolve_path(params.validation.real_works_dir or "."), paths.standins.root]
    root = next((r for r in roots if full.is_relative_to(r)), None)
    assert root is not None, f"{full} is below none of {roots}"
    return full.relative_to(root)


def _counterparts(params: Params, config: Configuration, images: pd.DataFrame) -> list[list[Path]]:
    """For each image the chain transforms, the folder images its folder steps read; refuses a missing one."""
    chain, out = config.transform, []
    index = next(i for i, t in enumerate(params.transforms) if t.name == chain.name)
    for kind, path in zip(images["kind"], images["path"], strict=True):
        if not transforms.applies(chain, kind):
            out.append([])
            continue
        rel, found = _relative(params, config, kind, path), []
        for position, folder in transforms.folder_steps(chain):
            other = transforms.counterpart(resolve_path(folder), rel)
            if not other.is_file():
                raise AuditError(
                    f"the folder step's folder {resolve_path(folder)} has no image {rel} (for {path})",
                    where=f"transforms[{index}].steps[{position}].path",
                    fix="give it an image at the same relative path for every image the chain "
                    "applies to, or narrow applies_to",
                )
            found.append(other)
        out.append(found)
    return out


def _transformed(
    chain: TransformSpec, files: list[Path], keys: list[str], kinds: pd.Series, counterparts: list[list[Path]]
) -> list[Path]:
    """The files to encode: each image the chain applies to replaced by its transformed copy (made once)."""
    folder = _paths.CACHE_DIR / "transformed" / chain.digest()[:16]
    out = []
    for file, key, kind, others in zip(files, keys, kinds, counterparts, strict=True):
        if not transforms.applies(chain, kind):
            out.append(file)
            continue
        extra = [p.read_bytes() for p in others]
        target = folder / f"{transforms.derived_key(key, chain, [sha256_bytes(b) for b in extra])}.png"
        if not target.is_file():
            atomic_write_bytes(target, transforms.apply(file.read_bytes(), chain, key, extra))
        out.append(target)
    return out


def _encode_config(
    params: Params,
    config: Configuration,
    encoder: Encoder,
    images: pd.DataFrame,
    labels: pd.DataFrame,
    progress: bool,
    counterparts: list[list[Path]],
) -> Embeddings:
    settings, paths = params.encoding, params.paths
    cache = EmbeddingCache(encoder.key)
    files = [paths.in_run(p) for p in images["path"]]
    if config.transform is not None:
        sources = _read_keys(files)
        _check_hashes(files, sources, images["sha256"])
        files = _transformed(config.transform, files, sources, images["kind"], counterparts)
    vectors, keys = _encode_images(
        encoder, files, batch_size=settings.batch_size, num_workers=settings.num_workers, cache=cache, progress=progress
    )
    if config.transform is None:
        _check_hashes(files, keys, images["sha256"])
    label_vectors = encode_texts(
        encoder, labels["text"].tolist(), batch_size=max(settings.batch_size, 256), cache=cache
    )
    info = {
        "spec": config.encoder.model_dump(),
        "key": encoder.key,
        "dim": encoder.dim,
        "weights": provenance.weights(params, config),
        "device": str(encoder.device),
        "precision": encoder.key.rsplit("|", 1)[-1],
        "checkpoint": encoder.checkpoint,
        "n_images": int(len(images)),
        "n_labels": int(len(labels)),
        **(
            {"transform": {**config.transform.model_dump(), "digest": config.transform.digest()}}
            if config.transform
            else {}
        ),
    }
    out = paths.config(config.name)
    atomic_write_bytes(out.embedding_file("images.npy"), _npy_bytes(vectors))
    write_table(images, out.embedding_file("images.csv"))
    atomic_write_bytes(out.embedding_file("labels.npy"), _npy_bytes(label_vectors))
    write_table(labels, out.embedding_file("labels.csv"))
    write_json(out.embedding_file("encoder.json"), info)
    return Embeddings(images, vectors, labels, label_vectors, info)


@dataclass(frozen=True)
class EncodingResult:
    """What stage 03 produced: each configuration's embeddings (key ``None`` in a run of one) and the first
    configuration's figures."""

    embeddings: dict[str | None, Embeddings]
    figures: dict[str, plots.SavedFigure]


def run_stage(
    params: Params,
    names: dict[str, list[str]],
    manifests: dict[str | None, pd.DataFrame],
    real_works: pd.DataFrame,
    standins: pd.DataFrame,
    *,
    progress: bool = True,
) -> EncodingResult:
    """Embed, for every configuration, its imitations (stage 02's ``manifests``), the real works (stage 01's
    ``real_works``, or stage 02's ``standins``) and one label prompt per name (stage 01's ``names``); write
    ``embeddings/`` (``images.npy/.csv``, ``labels.npy/.csv``, ``encoder.json``) and the figures. A
    configuration embeds each artist's real works of rank below its ``max_works``."""
    settings = params.encoding
    real = pd.concat([real_works, standins], ignore_index=True) if len(standins) else real_works
    encoders: dict[str, Encoder] = {}
    out: dict[str | None, Embeddings] = {}
    tables = {
        c.name: _image_table(manifests[c.generation_key], real[real["rank"] < c.max_works])
        for c in params.configurations
    }
    # every folder step's images checked before anything is encoded
    counterparts = {
        c.name: _counterparts(params, c, tables[c.name]) if c.transform else [[]] * len(tables[c.name])
        for c in params.configurations
    }
    for config in params.configurations:
        key = config.encoder.model_dump_json()
        if key not in encoders:
            encoders[key] = load_encoder(
                config.encoder,
                device=settings.device,
                dtype=settings.dtype,
                index=settings.encoders.index(config.encoder),
            )
        # an encoder that attributes by reference works needs no label prompts (and may have no text tower)
        labels = _label_table(config.label_template, names if config.method == "zero-shot" else {})
        out[config.name] = _encode_config(
            params, config, encoders[key], tables[config.name], labels, progress, counterparts[config.name]
        )
    return EncodingResult(out, _figures(params, out))


def _figures(params: Params, embeddings: dict[str | None, Embeddings]) -> dict[str, plots.SavedFigure]:
    figures: dict[str, plots.SavedFigure] = {}
    for config in params.configurations:
        emb = embeddings[config.name]
        rows = emb.rows("imitation", "artists")
        fig = plots.embedding_map(
            emb.image_vectors[rows.index],
            rows["name"].tolist(),
            title=f"{params.run}: imitations, first two principal components",
            weights=provenance.weights(params, config),
        )
        figures.setdefault("embedding_map", plots.save(fig, params.paths.config(config.name).figure("embedding_map")))
    return figures


# -- reading stage 03's products ------------------------------------------------------------------------------


def read_embeddings(paths: ConfigPaths) -> Embeddings:
    """One configuration's ``embeddings/``, checked: each vector file matches its index table."""
    needs = "03_encoding"
    images = read_table(paths.embedding_file("images.csv"), needs=needs, columns=_IMAGE_COLUMNS)
    labels = read_table(paths.embedding_file("labels.csv"), needs=needs, columns=_LABEL_COLUMNS)
    encoder = read_json(paths.embedding_file("encoder.json"), needs=needs)
    try:
        iv = np.load(paths.embedding_file("images.npy"), allow_pickle=False)
        lv = np.load(paths.embedding_file("labels.npy"), allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise AuditError(
            f"embeddings in {paths.embeddings} cannot be read ({exc})",
            fix="rerun 03_encoding (cached vectors make it quick)",
        ) from None
    for vec, table, name in ((iv, images, "images"), (lv, labels, "labels")):
        if vec.ndim != 2 or len(vec) != len(table):
            raise AuditError(
                f"{paths.embeddings}/{name}.npy has shape {vec.shape} but {name}.csv has {len(table)} rows",
                fix="the files are from different runs or half-written: rerun 03_encoding",
            )
    return Embeddings(images, iv, labels, lv, encoder)


def read_all_embeddings(params: Params) -> dict[str | None, Embeddings]:
    """Every configuration's embeddings, by configuration name (``None`` in a run of one)."""
    return {c.name: read_embeddings(params.paths.config(c.name)) for c in params.configurations}
