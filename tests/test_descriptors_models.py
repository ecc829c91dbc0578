"""Encoders beyond open_clip (helpers.models.hf_encoders, helpers.models.csd): every loader exercised offline by
its tiny model — unit, deterministic embeddings, keys that identify the weights; each family's descriptor
checked against the model's own outputs, CSD's style vector against a forward pass written here in numpy; the
refusals (zero-shot without a text tower, pickle without allow_pickle, a missing hub model offline) name the
entry they concern; and a reference configuration run end to end with the tiny DINOv2 and the tiny CSD."""

import argparse
import contextlib
import json
import shutil

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from conftest import run_module
from PIL import Image
from torch.utils.data import default_collate

from helpers import encoding, models, schema
from helpers.errors import AuditError
from helpers.models.encoders import check_encoder
from helpers.paths import PARAMS_DIR
from helpers.schema import EncoderSpec

FAMILIES = {
    "tiny-dinov2": "Dinov2Model",
    "tiny-hf-clip": "CLIPModel",
    "tiny-siglip": "SiglipModel",
    "tiny-siglip2": "Siglip2Model",
    "tiny-csd": "CSD",
    "tiny-clip": "CLIP",
}
TEXT = {"tiny-hf-clip", "tiny-siglip", "tiny-siglip2", "tiny-clip"}


def spec(model, **kw):
    return EncoderSpec(
        **{
            "name": model,
            "source": "tiny",
            "model": model,
            "pretrained": None,
            "allow_pickle": model == "tiny-csd",
            **kw,
        }
    )


def load(model, **kw):
    with pytest.warns(UserWarning, match="pickle") if model == "tiny-csd" else contextlib.nullcontext():
        return models.load_encoder(spec(model), device="cpu", **kw)


def pictures(n=5, seed=0):
    rng = np.random.default_rng(seed)
    return [Image.fromarray(rng.integers(0, 256, (40 + 8 * (i % 3), 48, 3), dtype=np.uint8)) for i in range(n)]


def embed(enc, images):
    return enc.encode_pixels(default_collate([enc.preprocess(im) for im in images]))


@pytest.fixture(scope="module")
def loaded():
    return {m: load(m) for m in FAMILIES}


@pytest.mark.parametrize("model", list(FAMILIES))
def test_each_tiny_encoder_embeds_unit_vectors_the_same_way_twice(model, loaded):
    enc, again = loaded[model], load(model)
    assert type(enc.model).__name__ == FAMILIES[model]  # source: tiny routed to its family's loader
    assert enc.key == again.key and enc.key.startswith("tiny:") and enc.key.endswith("|float32")
    a, b = embed(enc, pictures()), embed(again, pictures())
    assert a.dtype == torch.float32 and a.shape == (5, enc.dim)
    assert torch.allclose(a.norm(dim=-1), torch.ones(5), atol=1e-5)
    assert torch.equal(a, b) and not torch.allclose(a[0], a[1])
    assert enc.text == (model in TEXT) and (enc.tokenizer is None) == (model not in TEXT)
    if enc.text:
        t = enc.encode_tokens(enc.tokenizer(["Artwork from Claude Monet", "Artwork from NA"]))
        assert t.shape == (2, enc.dim) and torch.allclose(t.norm(dim=-1), torch.ones(2), atol=1e-5)


def test_keys_differ_between_models_and_precisions(loaded):
    keys = [enc.key for enc in loaded.values()]
    assert len(set(keys)) == len(keys)
    assert load("tiny-dinov2", dtype="bfloat16").key == loaded["tiny-dinov2"].key.replace("float32", "bfloat16")


def test_tiny_builds_are_the_same_in_a_fresh_process(tmp_path):
    import subprocess
    import sys

    from helpers.paths import PROJECT_ROOT

    names = [m for m in FAMILIES if m != "tiny-clip"]
    code = (
        "from helpers import models; import json\n"
        f"print(json.dumps([str(models.tiny_encoder_dir(m)) for m in {names!r}]))"
    )
    env = {**__import__("os").environ, "IMITATION_AUDIT_CACHE": str(tmp_path / "cache")}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=PROJECT_ROOT, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    fresh = [type(tmp_path)(p) for p in json.loads(out.stdout.strip().splitlines()[-1])]

    def files(folder):
        return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}

    for name, folder in zip(names, fresh, strict=True):
        assert files(folder) == files(models.tiny_encoder_dir(name)), name


def test_tiny_image_only_families_are_known_to_the_params():
    """The params know from a model's name alone that it has no text tower, so a tiny DINOv2 or CSD defaults to
    reference works and is refused zero-shot when the params are read, and the text families default to
    zero-shot: every tiny config is checked against EncoderSpec's rule."""
    from helpers.models.hf_encoders import FAMILIES as TEXT_TOWER

    for name, cfg in models.tiny_configs().items():
        if cfg["kind"] != "encoder":
            continue
        loader = cfg.get("loader", "open_clip")
        has_text = loader == "open_clip" or (loader == "transformers" and TEXT_TOWER[cfg["model"]["model_type"]])
        s = spec(name)
        assert s.image_only == (not has_text) and s.resolved_method == ("zero-shot" if has_text else "reference"), name
        if not has_text:
            with pytest.raises(ValueError, match="image-only"):
                spec(name, method="zero-shot")


def test_dinov2_descriptor_is_the_layernormed_class_token(loaded):
    enc = loaded["tiny-dinov2"]
    pixels = default_collate([enc.preprocess(im) for im in pictures()])
    assert pixels.shape == (5, 3, 32, 32)
    with torch.inference_mode():
        out = enc.model(pixel_values=pixels, output_hidden_states=True)
        cls = enc.model.layernorm(out.hidden_states[-1])[:, 0]
    assert torch.allclose(embed(enc, pictures()), torch.nn.functional.normalize(cls, dim=-1), atol=1e-6)


@pytest.mark.parametrize("model", ["tiny-hf-clip", "tiny-siglip", "tiny-siglip2"])
def test_text_and_image_towers_are_the_models_features(model, loaded):
    enc = loaded[model]
    texts = ["Artwork from Claude Monet", "Artwork from " + "a very long name " * 30]
    tokens = enc.tokenizer(texts)
    with torch.inference_mode():
        text = enc.model.get_text_features(**tokens).pooler_output
    assert torch.allclose(enc.encode_tokens(tokens), torch.nn.functional.normalize(text, dim=-1), atol=1e-6)
    if model == "tiny-hf-clip":
        assert set(tokens) == {"input_ids", "attention_mask"} and tokens["input_ids"].shape[1] == 77  # truncated
        assert enc.tokenizer(["a"])["input_ids"].shape[1] < 77  # padded to the longest only (the tower pools eos)
    else:  # SigLIP is trained on text padded to max_length, with no mask
        assert set(tokens) == {"input_ids"} and tokens["input_ids"].shape == (2, 64)
        assert enc.tokenizer(["a"])["input_ids"].shape == (1, 64)


def test_siglip_with_its_own_sentencepiece_tokenizer_pads_to_max_length(tmp_path, loaded):
    """The SigLIP (v1) tokenizer class, from a SentencePiece model trained here offline (the published one
    would need a download), goes through the same loading path."""
    import io

    import sentencepiece as spm
    from transformers import SiglipTokenizer

    folder = tmp_path / "siglip"
    shutil.copytree(models.tiny_encoder_dir("tiny-siglip"), folder)
    for p in folder.glob("tokenizer*"):
        p.unlink()
    words = "artwork from claude monet vincent van gogh the painting of style".split() * 4
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(" ".join(words[i : i + 5]) for i in range(len(words) - 5)),
        model_writer=model,
        vocab_size=40,
        hard_vocab_limit=False,
        num_threads=1,
        pad_id=0,
        eos_id=1,
        unk_id=2,
        bos_id=-1,
        minloglevel=2,
    )
    (tmp_path / "spiece.model").write_bytes(model.getvalue())
    SiglipTokenizer(vocab_file=str(tmp_path / "spiece.model")).save_pretrained(folder)
    enc = models.load_encoder(
        EncoderSpec(name="s", source="transformers", model=str(folder), pretrained=None, method="zero-shot"),
        device="cpu",
    )
    assert type(enc.tokenizer.tokenizer).__name__ == "SiglipTokenizer"
    tokens = enc.tokenizer(["Artwork from Claude Monet", "x"])
    assert set(tokens) == {"input_ids"} and tokens["input_ids"].shape == (2, 64)
    assert (tokens["input_ids"][:, -1] == enc.tokenizer.tokenizer.pad_token_id).all()  # padded up to the end
    assert enc.encode_tokens(tokens).shape == (2, enc.dim)
    assert torch.equal(embed(enc, pictures()), embed(loaded["tiny-siglip"], pictures()))


def test_siglip2_naflex_batches_go_through_the_encoding_loader(loaded, tmp_path):
    enc = loaded["tiny-siglip2"]
    one = enc.preprocess(pictures(1)[0])
    assert set(one) == {"pixel_values", "pixel_attention_mask", "spatial_shapes"}
    paths = []
    for i, im in enumerate(pictures(7)):
        paths.append(tmp_path / f"{i}.png")
        im.save(paths[-1])
    vectors = encoding.encode_images(enc, paths, batch_size=3, num_workers=0, progress=False)
    direct = embed(enc, [Image.open(p).convert("RGB") for p in paths]).numpy()
    np.testing.assert_allclose(vectors, direct, atol=1e-5)


def test_a_saved_folder_loads_like_its_tiny_model(tmp_path, loaded):
    folder = tmp_path / "dino"
    shutil.copytree(models.tiny_encoder_dir("tiny-dinov2"), folder)
    enc = models.load_encoder(
        EncoderSpec(name="d", source="transformers", model=str(folder), pretrained=None), device="cpu"
    )
    tiny = loaded["tiny-dinov2"]
    assert enc.key.startswith("transformers:") and enc.key.split(":", 1)[1] == tiny.key.split(":", 1)[1]
    assert torch.equal(embed(enc, pictures()), embed(tiny, pictures()))
    (folder / "preprocessor_config.json").write_text(
        (folder / "preprocessor_config.json").read_text().replace('"shortest_edge": 36', '"shortest_edge": 40')
    )
    changed = models.load_encoder(
        EncoderSpec(name="d", source="transformers", model=str(folder), pretrained=None), device="cpu"
    )
    assert changed.key != enc.key  # the image processor changes the embeddings: the key follows it


def test_an_image_only_transformers_model_is_refused_zero_shot_at_load_naming_the_key(tmp_path):
    folder = tmp_path / "my-descriptor"  # a name that says nothing about the family
    shutil.copytree(models.tiny_encoder_dir("tiny-dinov2"), folder)
    s = EncoderSpec(name="mine", source="transformers", model=str(folder), pretrained=None, method="zero-shot")
    assert not s.image_only
    refused = r"^encoding\.encoders\[1\]\.method: .*dinov2.*image-only.*method: reference"
    with pytest.raises(AuditError, match=refused):
        models.load_encoder(s, device="cpu", index=1)
    with pytest.raises(AuditError, match=refused):
        check_encoder(s, index=1)


def test_an_unsupported_family_or_pickle_weights_are_refused(tmp_path):
    folder = tmp_path / "bert"
    shutil.copytree(models.tiny_encoder_dir("tiny-dinov2"), folder)
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "model_type": "bert"}))
    s = EncoderSpec(name="b", source="transformers", model=str(folder), pretrained=None)
    with pytest.raises(AuditError, match=r"encoders\[0\]\.model: .*'bert' model.*dinov2, dinov2_with_registers, clip"):
        check_encoder(s)
    (folder / "config.json").write_text(json.dumps(config))
    from safetensors.torch import load_file

    torch.save(load_file(folder / "model.safetensors"), folder / "pytorch_model.bin")
    (folder / "model.safetensors").unlink()
    with pytest.raises(AuditError, match="pickle checkpoint.*allow_pickle"):
        models.load_encoder(s, device="cpu")
    with pytest.warns(UserWarning, match="pickle"):
        enc = models.load_encoder(
            EncoderSpec(name="b", source="transformers", model=str(folder), pretrained=None, allow_pickle=True),
            device="cpu",
        )
    assert enc.dim == 32
    with pytest.raises(AuditError, match=r"encoders\[0\]\.model: .*nowhere does not exist"):
        check_encoder(EncoderSpec(name="n", source="transformers", model=str(tmp_path / "nowhere"), pretrained=None))


def test_missing_hub_models_fail_fast_offline_naming_the_model(hub_calls):
    s = EncoderSpec(name="dino", source="transformers", model="facebook/dinov2-base", pretrained=None, revision="main")
    with pytest.raises(AuditError) as err:
        check_encoder(s, index=3)
    line = str(err.value)
    assert hub_calls == {"model_info": 1, "getaddrinfo": 0}  # asked once; offline, nothing left the machine
    assert line.startswith("encoding.encoders[3]: ") and "'facebook/dinov2-base'" in line and "\n" not in line
    assert "HF_HUB_OFFLINE is set" in line and "make smoke" in line
    with pytest.raises(AuditError, match=r"encoders\[0\]: could not fetch the encoder 'facebook/dinov2-base'"):
        models.load_encoder(s, device="cpu")
    assert hub_calls["getaddrinfo"] == 0


def test_errors_name_the_entry_they_concern(tmp_path):
    from helpers.schema import GenerationParams, GeneratorSpec, Params

    tiny_gen = GeneratorSpec(name="tiny-sd", source="tiny", model="tiny-sd")
    missing_gen = GeneratorSpec(name="gone", source="local", model=str(tmp_path / "gone"))
    gen = GenerationParams(generators=[tiny_gen, missing_gen], device="cpu", dtype="float32")
    encoders = [
        spec("tiny-clip"),
        EncoderSpec(name="gone", source="csd", model=str(tmp_path / "csd.pth"), pretrained=None, allow_pickle=True),
    ]

    def params(generators, encs):
        return Params(
            run="p",
            generation=gen.model_copy(update={"generators": generators}),
            encoding={"encoders": encs},
            validation={"standin": True, "max_works": 2},
        )

    with pytest.raises(AuditError, match=r"^generation\.generators\[1\]\.model: .*gone"):
        models.preflight(params([tiny_gen, missing_gen], encoders))
    with pytest.raises(AuditError, match=r"^generation\.generators\[1\]\.model: "):
        models.load_pipeline(missing_gen, gen, index=1)
    with pytest.raises(
        AuditError, match=r"^encoding\.encoders\[1\]\.model: the CSD checkpoint .*csd.pth does not exist"
    ):
        models.preflight(params([tiny_gen], encoders))
    with pytest.raises(AuditError, match=r"^encoding\.encoders\[1\]\.model: unknown tiny encoder model 'tiny-nope'"):
        models.preflight(params([tiny_gen], [encoders[0], spec("tiny-nope")]))


# -- CSD -------------------------------------------------------------------------------------------------------


def test_csd_without_allow_pickle_is_refused_at_preflight_and_load(tmp_path):
    for s in (
        spec("tiny-csd", allow_pickle=False),
        EncoderSpec(
            name="c", source="csd", model=str(models.tiny_encoder_dir("tiny-csd") / "checkpoint.pth"), pretrained=None
        ),
    ):
        refused = r"^encoding\.encoders\[2\]: .*pickle checkpoint.*allow_pickle: true"
        with pytest.raises(AuditError, match=refused):
            check_encoder(s, index=2)
        with pytest.raises(AuditError, match=refused):
            models.load_encoder(s, device="cpu", index=2)


def _layer_norm(x, w, b, eps=1e-5):
    mean, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w + b


def _csd_by_hand(state, pixels, heads):
    """CSD's style vector from the checkpoint's tensors, by a forward pass written here: OpenAI's ViT (patches,
    class token, ln_pre, residual attention and QuickGELU MLP blocks, ln_post of the class token), then the style
    head, then the unit length."""
    s = {k.removeprefix("module."): v.double().numpy() for k, v in state.items()}
    conv = s["backbone.conv1.weight"]
    width, _, p, _ = conv.shape
    n, _, h, w = pixels.shape
    patches = pixels.reshape(n, 3, h // p, p, w // p, p).transpose(0, 2, 4, 1, 3, 5).reshape(n, -1, 3 * p * p)
    x = patches @ conv.reshape(width, -1).T
    x = np.concatenate([np.broadcast_to(s["backbone.class_embedding"], (n, 1, width)), x], axis=1)
    x = _layer_norm(x + s["backbone.positional_embedding"], s["backbone.ln_pre.weight"], s["backbone.ln_pre.bias"])
    blocks = sorted({int(k.split(".")[3]) for k in s if k.startswith("backbone.transformer.resblocks.")})
    for i in blocks:
        b = {k.split(f"resblocks.{i}.", 1)[1]: v for k, v in s.items() if f"resblocks.{i}." in k}
        y = _layer_norm(x, b["ln_1.weight"], b["ln_1.bias"])
        q, k, v = np.split(y @ b["attn.in_proj_weight"].T + b["attn.in_proj_bias"], 3, axis=-1)
        d = width // heads
        q, k, v = (t.reshape(n, -1, heads, d).transpose(0, 2, 1, 3) for t in (q, k, v))
        scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d)
        attn = np.exp(scores - scores.max(-1, keepdims=True))
        attn /= attn.sum(-1, keepdims=True)
        y = (attn @ v).transpose(0, 2, 1, 3).reshape(n, -1, width)
        x = x + y @ b["attn.out_proj.weight"].T + b["attn.out_proj.bias"]
        y = _layer_norm(x, b["ln_2.weight"], b["ln_2.bias"]) @ b["mlp.c_fc.weight"].T + b["mlp.c_fc.bias"]
        y = y / (1 + np.exp(-1.702 * y))  # QuickGELU
        x = x + y @ b["mlp.c_proj.weight"].T + b["mlp.c_proj.bias"]
    feature = _layer_norm(x[:, 0], s["backbone.ln_post.weight"], s["backbone.ln_post.bias"])
    style, content = feature @ s["last_layer_style"], feature @ s["last_layer_content"]
    return style / np.linalg.norm(style, axis=1, keepdims=True), content / np.linalg.norm(
        content, axis=1, keepdims=True
    )


def test_csd_style_vector_is_the_class_token_through_the_style_head_by_hand(loaded):
    """A known answer: the loader's output equals the style vector computed by hand from the checkpoint's
    tensors, and is not the content head's."""
    path = models.tiny_encoder_dir("tiny-csd") / "checkpoint.pth"
    ckpt = torch.load(path, map_location="cpu", weights_only=False)
    assert isinstance(ckpt["args"], argparse.Namespace)  # the layout CSD's training script saves
    state = ckpt["model_state_dict"]
    assert all(k.startswith("module.") for k in state) and "module.backbone.proj" not in state
    assert state["module.last_layer_style"].shape == state["module.last_layer_content"].shape == (128, 32)
    enc = loaded["tiny-csd"]
    pixels = default_collate([enc.preprocess(im) for im in pictures()])
    style, content = _csd_by_hand(state, pixels.double().numpy(), heads=2)
    got = enc.encode_pixels(pixels).numpy()
    np.testing.assert_allclose(got, style, atol=1e-5)
    assert np.abs(got - content).max() > 0.1


def test_csd_preprocessing_is_its_evaluation_transform(loaded):
    from torchvision import transforms

    from helpers.models import csd

    clip_mean, clip_std = (0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)
    for size in (32, 224):
        reference = transforms.Compose(
            [
                transforms.Resize(size, interpolation=transforms.InterpolationMode.BICUBIC),
                transforms.CenterCrop(size),
                transforms.ToTensor(),
                transforms.Normalize(clip_mean, clip_std),
            ]
        )
        image = pictures(1)[0]
        assert torch.equal(csd.preprocess(size)(image), reference(image))
    assert torch.equal(loaded["tiny-csd"].preprocess(image), csd.preprocess(32)(image))


def test_csd_loads_through_the_restricted_unpickler_and_from_safetensors(tmp_path, monkeypatch, loaded):
    """CSD's pickle (weights and an argparse Namespace) needs no code to run: the restricted unpickler reads
    it. The same tensors saved as safetensors need no allow_pickle."""
    from safetensors.torch import save_file

    path = models.tiny_encoder_dir("tiny-csd") / "checkpoint.pth"
    real_load, calls = torch.load, []

    def restricted_only(*args, **kwargs):
        calls.append(kwargs.get("weights_only"))
        assert kwargs.get("weights_only") is True, "the full unpickler was used"
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, "load", restricted_only)
    with pytest.warns(UserWarning, match="pickle"):
        models.load_encoder(EncoderSpec(name="c", source="csd", model=str(path), pretrained=None, allow_pickle=True))
    assert calls == [True]
    state = real_load(path, map_location="cpu", weights_only=False)["model_state_dict"]
    save_file({k.removeprefix("module."): v for k, v in state.items()}, str(tmp_path / "csd.safetensors"))
    enc = models.load_encoder(
        EncoderSpec(name="c", source="csd", model=str(tmp_path / "csd.safetensors"), pretrained=None), device="cpu"
    )
    assert enc.key.startswith("csd:") and enc.checkpoint.endswith("csd.safetensors")
    assert torch.allclose(embed(enc, pictures()), embed(loaded["tiny-csd"], pictures()), atol=1e-6)
    torch.save({"model_state_dict": {"module.something": torch.zeros(2)}}, tmp_path / "other.pth")
    with pytest.warns(UserWarning), pytest.raises(AuditError, match=r"encoders\[0\]\.model: .*not a CSD checkpoint"):
        models.load_encoder(
            EncoderSpec(name="c", source="csd", model=str(tmp_path / "other.pth"), pretrained=None, allow_pickle=True)
        )


def test_describe_says_method_and_where_the_weights_are(tmp_path):
    from helpers.schema import Params

    folder = tmp_path / "dino"
    shutil.copytree(models.tiny_encoder_dir("tiny-dinov2"), folder)
    encs = [
        spec("tiny-dinov2"),
        EncoderSpec(name="f", source="transformers", model=str(folder), pretrained=None),
        EncoderSpec(name="h", source="transformers", model="facebook/dinov2-base", pretrained=None),
        EncoderSpec(name="c", source="csd", model="models/csd/checkpoint.pth", pretrained=None, allow_pickle=True),
    ]
    d = models.describe(
        Params(
            run="p",
            generation={"generators": [{"name": "t", "source": "tiny", "model": "tiny-sd"}]},
            encoding={"encoders": encs},
            validation={"standin": True, "max_works": 2},
        )
    )
    tiny, local, hub, csd = d["encoders"]
    assert tiny["weights"] == "random" and tiny["method"] == "reference" and tiny["config"]["loader"] == "transformers"
    assert local["path"] == str(folder) and local["weights"] == "pretrained" and local["pretrained"] is None
    assert hub["commit"] is None and hub["path"] is None and hub["method"] == "reference"  # not in the cache
    assert csd["path"].endswith("models/csd/checkpoint.pth") and csd["method"] == "reference"


# -- end to end --------------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.xdist_group("pipeline")
def test_reference_configurations_with_dinov2_and_csd_run_end_to_end(tmp_path):
    """The smoke profile with the tiny DINOv2 and the tiny CSD as encoders, attributing by reference works
    (stand-ins) through the runner: stages 03–05 write the reference products, no text is encoded, and the
    attribution is recomputed from the saved embeddings."""
    data = yaml.safe_load((PARAMS_DIR / "smoke.yaml").read_text())
    data["run"] = "descriptors-tiny"
    data["encoding"]["encoders"] = [
        {"name": "dino", "source": "tiny", "model": "tiny-dinov2", "pretrained": None},
        {"name": "csd", "source": "tiny", "model": "tiny-csd", "pretrained": None, "allow_pickle": True},
    ]
    params_file = tmp_path / "params.yaml"
    params_file.write_text(yaml.safe_dump(data))
    assert [c.method for c in schema.load(params_file).configurations] == ["reference", "reference"]
    out = run_module(["helpers.runner", "--params", str(params_file)], tmp_path / "outputs", timeout=900)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    run = tmp_path / "outputs" / "descriptors-tiny"
    for name, key in (("dino", "tiny:"), ("csd", "tiny:")):
        config = run / "configs" / name
        info = json.loads((config / "embeddings" / "encoder.json").read_text())
        assert info["key"].startswith(key) and info["dim"] == 32 and info["n_labels"] == 0
        assert np.load(config / "embeddings" / "labels.npy").shape == (0, 32)
        summary = json.loads((config / "summary.json").read_text())
        assert summary["method"] == "reference" and summary["validation_works"] == "held_out"
        images = pd.read_csv(config / "embeddings" / "images.csv", dtype=str, keep_default_na=False)
        vectors = np.load(config / "embeddings" / "images.npy")
        refs = pd.read_csv(config / "tables" / "reference_works.csv", dtype=str, keep_default_na=False)
        rows = images[(images["kind"] == "imitation") & (images["group"] == "artists")]
        artists = list(dict.fromkeys(rows["name"]))
        by_path = dict(zip(images["path"], images.index, strict=True))
        centroids = np.stack(
            [vectors[[by_path[p] for p in refs[refs["artist"] == a]["path"]]].mean(0) for a in artists]
        )
        centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
        predicted = np.asarray(artists)[(vectors[rows.index] @ centroids.T).argmax(axis=1)]
        pred = pd.read_csv(config / "tables" / "predictions.csv", dtype=str, keep_default_na=False)
        assert (pred["method"] == "reference").all() and pred["predicted"].tolist() == predicted.tolist()
    comparison = pd.read_csv(run / "tables" / "comparison.csv", dtype=str, keep_default_na=False)
    assert set(comparison["method"]) == {"reference"} and len(comparison) == 2
