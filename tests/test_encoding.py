"""Embeddings: content-addressed cache (hits compute nothing, bad shards are never used), the batched
DataLoader path equals a direct forward, rows are unit length, and the stage writes the documented files."""

import json

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from helpers import encoding, models
from helpers.errors import AuditError
from helpers.paths import ConfigPaths
from helpers.schema import EncoderSpec

TINY_ENC = EncoderSpec(name="tiny-clip", source="tiny", model="tiny-clip", pretrained=None)


@pytest.fixture(scope="module")
def encoder():
    return models.load_encoder(TINY_ENC, device="cpu", dtype="float32")


@pytest.fixture
def images(tmp_path):
    rng = np.random.default_rng(0)
    paths = []
    for i in range(11):
        p = tmp_path / "imgs" / f"{i:02d}.png"
        p.parent.mkdir(exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (48 + 8 * (i % 3), 64, 3), dtype=np.uint8)).save(p)
        paths.append(p)
    return paths


@pytest.fixture
def count_forward(encoder, monkeypatch):
    calls = {"image": 0, "text": 0}
    image, text = encoder.image_forward, encoder.text_forward  # the towers' forward passes, whatever the family

    def counted_image(x, *a, **k):
        calls["image"] += 1
        return image(x, *a, **k)

    def counted_text(x, *a, **k):
        calls["text"] += 1
        return text(x, *a, **k)

    monkeypatch.setattr(encoder, "image_forward", counted_image)
    monkeypatch.setattr(encoder, "text_forward", counted_text)
    return calls


def direct(encoder, paths):
    pixels = torch.stack([encoder.preprocess(Image.open(p).convert("RGB")) for p in paths])
    with torch.inference_mode():
        out = encoder.model.encode_image(pixels)
    return torch.nn.functional.normalize(out.float(), dim=-1).numpy()


def test_batched_workers_equal_a_direct_forward_and_rows_are_unit(encoder, images):
    got = encoding.encode_images(encoder, images, batch_size=4, num_workers=2, progress=False)
    assert got.dtype == np.float32 and got.shape == (len(images), encoder.dim)
    np.testing.assert_allclose(got, direct(encoder, images), rtol=0, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-6)
    texts = encoding.encode_texts(encoder, ["Artwork from Claude Monet", "Artwork from NA"])
    np.testing.assert_allclose(np.linalg.norm(texts, axis=1), 1.0, atol=1e-6)
    with torch.inference_mode():
        ref = torch.nn.functional.normalize(encoder.model.encode_text(encoder.tokenizer(["Artwork from NA"])), dim=-1)
    np.testing.assert_allclose(texts[1], ref[0].numpy(), atol=1e-6)


def test_cache_hit_is_identical_and_computes_nothing(encoder, images, tmp_path, count_forward):
    root = tmp_path / "cache"
    texts = ["Artwork from Claude Monet", "Artwork from NA", "Artwork from Claude Monet"]
    first = encoding.encode_images(
        encoder, images, batch_size=4, num_workers=0, cache=encoding.EmbeddingCache(encoder.key, root), progress=False
    )
    first_t = encoding.encode_texts(encoder, texts, cache=encoding.EmbeddingCache(encoder.key, root))
    assert count_forward == {"image": 3, "text": 1}
    cache = encoding.EmbeddingCache(encoder.key, root)  # a fresh process would see exactly this
    again = encoding.encode_images(encoder, images, batch_size=4, num_workers=0, cache=cache, progress=False)
    again_t = encoding.encode_texts(encoder, texts, cache=cache)
    assert count_forward == {"image": 3, "text": 1}
    assert np.array_equal(first, again) and np.array_equal(first_t, again_t)
    assert len(cache) == len(images) + 2 and cache.dim == encoder.dim
    other = encoding.EmbeddingCache(encoder.key + "-other", root)
    assert len(other) == 0  # keyed by model: another model sees nothing


def test_identical_files_are_computed_once(encoder, images, tmp_path, count_forward):
    dup = tmp_path / "dup.png"
    dup.write_bytes(images[0].read_bytes())
    out = encoding.encode_images(encoder, [images[0], dup, images[0]], num_workers=0, progress=False)
    assert count_forward["image"] == 1 and np.array_equal(out[0], out[1]) and np.array_equal(out[0], out[2])


def test_corrupted_or_foreign_shards_are_ignored(encoder, images, tmp_path, count_forward):
    root = tmp_path / "cache"
    good = encoding.encode_images(
        encoder, images[:4], num_workers=0, cache=encoding.EmbeddingCache(encoder.key, root), progress=False
    )
    cache = encoding.EmbeddingCache(encoder.key, root)
    (shard,) = cache.folder.glob("*.npz")
    data = shard.read_bytes()
    shard.write_bytes(data[: len(data) // 2])  # half-written
    foreign = cache.folder / "foreign.npz"
    np.savez(
        foreign,
        keys=np.asarray([encoding.image_key(images[4].read_bytes())]),
        vectors=np.ones((1, encoder.dim), np.float32),
        model_key=np.asarray("some-other-model"),
        dim=np.asarray(encoder.dim),
    )
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0xFF  # a bit flip inside the vectors: the zip CRC catches it
    (cache.folder / "flipped.npz").write_bytes(bytes(flipped))
    with pytest.warns(UserWarning, match="ignored"):
        again = encoding.encode_images(encoder, images[:5], num_workers=0, cache=cache, progress=False)
    assert count_forward["image"] == 2  # 1 (first run) + 1 (recomputed, nothing taken from bad shards)
    assert np.array_equal(again[:4], good)
    assert not shard.exists() and not foreign.exists() and not (cache.folder / "flipped.npz").exists()
    assert not np.allclose(again[4], 1 / np.sqrt(encoder.dim))


def test_unreadable_image_is_named(encoder, images, tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(images[0].read_bytes()[:100])
    with pytest.raises(AuditError, match="bad.png"):
        encoding.encode_images(encoder, [images[1], bad], num_workers=2, progress=False)
    with pytest.raises(AuditError, match="missing.png"):
        encoding.encode_images(encoder, [tmp_path / "missing.png"], num_workers=0, progress=False)


def test_keys_separate_texts_from_images():
    assert encoding.text_key("abc") != encoding.image_key(b"abc")
    assert encoding.text_key("abc") == encoding.image_key(b"text:abc")


def test_bfloat16_autocast_on_cpu_is_close(encoder, images):
    bf = models.load_encoder(TINY_ENC, device="cpu", dtype="bfloat16")
    assert bf.key != encoder.key
    a = encoding.encode_images(encoder, images[:3], num_workers=0, progress=False)
    b = encoding.encode_images(bf, images[:3], num_workers=0, progress=False)
    assert b.dtype == np.float32 and np.all(np.sum(a * b, axis=1) > 0.99)


def _stage(cfg, names):
    from helpers import generation
    from helpers.selection import REAL_WORKS_COLUMNS

    real_works = pd.DataFrame(columns=list(REAL_WORKS_COLUMNS))  # stand-ins only
    return encoding.run_stage(
        cfg, names, generation.read_manifests(cfg), real_works, generation.read_standins(cfg.paths), progress=False
    )


def test_run_stage_writes_the_documented_files(tiny_params, write_names):
    from helpers import generation

    cfg = tiny_params("encode")
    names = {"artists": ["Claude Monet", "NA"], "random_names": ["John Smith"]}
    write_names(cfg.paths, names["artists"], names["random_names"])
    generation.run_stage(cfg, names, progress=False)
    result = _stage(cfg, names)
    info = result.embeddings[None].encoder
    out = cfg.paths.embeddings
    images = pd.read_csv(out / "images.csv", dtype=str, keep_default_na=False)
    labels = pd.read_csv(out / "labels.csv", dtype=str, keep_default_na=False)
    assert list(images.columns) == ["row", "kind", "group", "name", "index", "path", "sha256"]
    assert list(labels.columns) == ["row", "group", "name", "text"]
    assert images["kind"].value_counts().to_dict() == {"imitation": 6, "real": 4}
    assert set(images.loc[images["kind"] == "real", "group"]) == {"real"}
    assert images.loc[images["kind"] == "real", "index"].tolist() == ["0", "1", "0", "1"]
    assert labels["text"].tolist() == ["Artwork from Claude Monet", "Artwork from NA", "Artwork from John Smith"]
    assert labels["group"].tolist() == ["artists", "artists", "random_names"]
    iv, lv = np.load(out / "images.npy"), np.load(out / "labels.npy")
    assert iv.shape == (10, 32) and lv.shape == (3, 32) and iv.dtype == np.float32
    enc = json.loads((out / "encoder.json").read_text())
    assert enc["dim"] == 32 and enc["weights"] == "random" and enc["key"] == info["key"]
    emb = encoding.read_embeddings(cfg.paths)  # the reader gives back what the stage returned
    assert len(emb.images) == 10
    np.testing.assert_array_equal(emb.image_vectors, result.embeddings[None].image_vectors)
    assert emb.images.equals(
        result.embeddings[None].images.astype({"row": "Int64", "index": "Int64"}).astype({"path": str})
    )
    assert result.figures["embedding_map"].path == cfg.paths.figure("embedding_map")
    manifest = pd.read_csv(cfg.paths.images().manifest, dtype=str, keep_default_na=False)
    (cfg.paths.root / manifest["path"][0]).write_bytes((cfg.paths.root / manifest["path"][1]).read_bytes())
    with pytest.raises(AuditError, match="hash their manifest records"):
        _stage(cfg, names)


def _embeddings(folder, n=4, d=8):
    folder.mkdir(parents=True)
    np.save(folder / "images.npy", np.eye(n, d, dtype=np.float32))
    np.save(folder / "labels.npy", np.eye(2, d, dtype=np.float32))
    pd.DataFrame(
        {
            "row": range(n),
            "kind": "imitation",
            "group": "artists",
            "name": ["a", "a", "b", "b"],
            "index": [0, 1, 0, 1],
            "path": list("wxyz"),
            "sha256": "0",
        }
    ).to_csv(folder / "images.csv", index=False)
    pd.DataFrame({"row": [0, 1], "group": "artists", "name": ["a", "b"], "text": ["A", "B"]}).to_csv(
        folder / "labels.csv", index=False
    )
    (folder / "encoder.json").write_text("{}")


def test_half_written_or_mismatched_embeddings_are_refused(tmp_path):
    folder = tmp_path / "embeddings"
    _embeddings(folder)
    paths = ConfigPaths(tmp_path)
    assert paths.embeddings == folder
    assert encoding.read_embeddings(paths).image_vectors.shape == (4, 8)
    data = (folder / "images.npy").read_bytes()
    (folder / "images.npy").write_bytes(data[: len(data) // 2])
    with pytest.raises(AuditError, match="rerun 03_encoding"):
        encoding.read_embeddings(paths)
    np.save(folder / "images.npy", np.eye(3, 8, dtype=np.float32))
    with pytest.raises(AuditError, match=r"shape \(3, 8\) but images.csv has 4 rows"):
        encoding.read_embeddings(paths)
    (folder / "encoder.json").write_text("{half")
    with pytest.raises(AuditError, match="encoder.json is not valid JSON.*rerun 03_encoding"):
        encoding.read_embeddings(paths)
