"""Model loading: tiny models are deterministic and go through the same loading path as real ones,
pickle weights are refused unless opted in, and preflight names the model it cannot fetch after one
network attempt at most (no retry)."""

import hashlib
import json
import os
import subprocess
import sys

import pytest
import torch

from helpers import models
from helpers.errors import AuditError
from helpers.paths import PROJECT_ROOT
from helpers.schema import EncoderSpec, GenerationParams, GeneratorSpec, Params

TINY_GEN = GeneratorSpec(name="tiny-sd", source="tiny", model="tiny-sd")
TINY_ENC = EncoderSpec(name="tiny-clip", source="tiny", model="tiny-clip", pretrained=None)


def gen_params(**kw):
    base = {"generators": [TINY_GEN], "height": 64, "width": 64, "steps": 2, "device": "cpu", "dtype": "float32"}
    return GenerationParams(**{**base, **kw})


def file_hashes(folder):
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.suffix in (".safetensors", ".json", ".txt")
    }


def state(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


@pytest.fixture(scope="module")
def tiny_pipe():
    return models.load_pipeline(TINY_GEN, gen_params())


def test_tiny_pipeline_reloads_bit_identical(tiny_pipe):
    again = models.load_pipeline(TINY_GEN, gen_params())
    for name in ("unet", "vae", "text_encoder"):
        a, b = state(getattr(tiny_pipe, name)), state(getattr(again, name))
        assert a.keys() == b.keys()
        assert all(torch.equal(a[k], b[k]) for k in a), name
    folder = models.tiny_generator_dir("tiny-sd")
    assert (folder / "unet" / "diffusion_pytorch_model.safetensors").is_file()
    assert not list(folder.rglob("*.bin"))
    assert type(tiny_pipe.scheduler).__name__ == "PNDMScheduler"
    assert tiny_pipe.scheduler.config.skip_prk_steps and tiny_pipe.scheduler.config.steps_offset == 1
    assert tiny_pipe.safety_checker is None


def test_tiny_tokenizer_matches_open_clip(tiny_pipe):
    import open_clip

    text = "Artwork from Zdzisław Beksiński, Émile's 'quotes'!"
    ids = tiny_pipe.tokenizer(text).input_ids
    assert ids == [i for i in open_clip.tokenize([text])[0].tolist() if i][: len(ids)]


def test_tiny_models_are_the_same_in_a_fresh_process(tmp_path):
    models.tiny_generator_dir("tiny-sd")
    models.tiny_encoder_dir("tiny-clip")
    code = (
        "from helpers import models; import json, sys\n"
        "print(json.dumps([str(models.tiny_generator_dir('tiny-sd')), str(models.tiny_encoder_dir('tiny-clip'))]))"
    )
    env = {**os.environ, "IMITATION_AUDIT_CACHE": str(tmp_path / "cache")}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=PROJECT_ROOT, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    fresh_gen, fresh_enc = (type(tmp_path)(p) for p in json.loads(out.stdout.strip().splitlines()[-1]))
    assert fresh_gen.name == models.tiny_generator_dir("tiny-sd").name
    assert file_hashes(fresh_gen) == file_hashes(models.tiny_generator_dir("tiny-sd"))
    assert file_hashes(fresh_enc) == file_hashes(models.tiny_encoder_dir("tiny-clip"))


@pytest.mark.parametrize(
    ("name", "cls"),
    [("ddim", "DDIMScheduler"), ("euler", "EulerDiscreteScheduler"), ("dpm", "DPMSolverMultistepScheduler")],
)
def test_scheduler_choice(name, cls):
    pipe = models.load_pipeline(TINY_GEN, gen_params(scheduler=name))
    assert type(pipe.scheduler).__name__ == cls
    assert pipe.scheduler.config.beta_schedule == "scaled_linear"


def test_tiny_encoder_reloads_identical_with_a_stable_key():
    a, b = models.load_encoder(TINY_ENC, device="cpu"), models.load_encoder(TINY_ENC, device="cpu")
    assert a.key == b.key and a.key.startswith("tiny:") and a.key.endswith("|float32")
    assert a.dim == 32 and not a.model.training
    sa, sb = state(a.model), state(b.model)
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert models.load_encoder(TINY_ENC, device="cpu", dtype="bfloat16").key.endswith("|bfloat16")


def test_local_encoder_folder_loads_like_tiny(tmp_path):
    import shutil

    folder = tmp_path / "clip"
    shutil.copytree(models.tiny_encoder_dir("tiny-clip"), folder)
    enc = models.load_encoder(EncoderSpec(name="x", source="local", model=str(folder), pretrained=None), device="cpu")
    tiny = models.load_encoder(TINY_ENC, device="cpu")
    assert enc.key.split(":", 1)[1] == tiny.key.split(":", 1)[1]
    tokens = tiny.tokenizer(["Artwork from Claude Monet"])
    assert torch.equal(enc.encode_tokens(tokens), tiny.encode_tokens(tokens))


def test_pickle_only_generator_folder_is_refused_unless_opted_in(tmp_path, tiny_pipe):
    folder = tmp_path / "pickled"
    tiny_pipe.save_pretrained(folder, safe_serialization=False)
    assert list((folder / "unet").glob("*.bin")) and not list((folder / "unet").glob("*.safetensors"))
    spec = GeneratorSpec(name="p", source="local", model=str(folder))
    with pytest.raises(AuditError, match="allow_pickle") as err:
        models.load_pipeline(spec, gen_params(generators=[spec]))
    assert "unet" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(AuditError, match="allow_pickle"):
        models.preflight(
            Params(
                run="p",
                generation=gen_params(generators=[spec]),
                encoding={"encoders": [TINY_ENC]},
                validation={"standin": True},
            )
        )
    trusted = GeneratorSpec(name="p", source="local", model=str(folder), allow_pickle=True)
    with pytest.warns(UserWarning, match="pickle"):
        pipe = models.load_pipeline(trusted, gen_params(generators=[trusted]))
    assert torch.equal(state(pipe.unet)["conv_in.weight"], state(tiny_pipe.unet)["conv_in.weight"])


def test_pickle_only_encoder_folder_is_refused_unless_opted_in(tmp_path):
    from safetensors.torch import load_file

    src = models.tiny_encoder_dir("tiny-clip")
    folder = tmp_path / "clip"
    folder.mkdir()
    (folder / "open_clip_config.json").write_text((src / "open_clip_config.json").read_text())
    torch.save(load_file(src / "open_clip_model.safetensors"), folder / "open_clip_pytorch_model.bin")
    with pytest.raises(AuditError, match="allow_pickle"):
        models.load_encoder(EncoderSpec(name="x", source="local", model=str(folder), pretrained=None))
    with pytest.warns(UserWarning, match="pickle"):
        enc = models.load_encoder(
            EncoderSpec(name="x", source="local", model=str(folder), pretrained=None, allow_pickle=True)
        )
    assert enc.dim == 32


def _params(generator=None, encoder=None):
    return Params(
        run="p",
        generation=gen_params(generators=[generator or TINY_GEN]),
        encoding={"encoders": [encoder or TINY_ENC]},
        validation={"standin": True},
    )


def test_preflight_passes_for_tiny_models():
    models.preflight(_params())


def test_preflight_names_the_entry_that_failed(tmp_path):
    gone = GeneratorSpec(name="gone", source="local", model=str(tmp_path / "gone"))
    with pytest.raises(AuditError, match=r"^generation\.generators\[1\]\.model: .*gone"):
        models.preflight(
            Params(
                run="p",
                generation=gen_params(generators=[TINY_GEN, gone]),
                encoding={"encoders": [TINY_ENC]},
                validation={"standin": True},
            )
        )
    nothing = EncoderSpec(name="x", source="local", model=str(tmp_path / "nothing"), pretrained=None)
    with pytest.raises(AuditError, match=r"^encoding\.encoders\[1\]\.model: .*nothing does not exist"):
        models.preflight(
            Params(
                run="p",
                generation=gen_params(),
                encoding={"encoders": [TINY_ENC, nothing]},
                validation={"standin": True},
            )
        )


@pytest.mark.parametrize("repo", ["stable-diffusion-v1-5/stable-diffusion-v1-5", "imitation-audit/no-such-model-xyz"])
def test_preflight_offline_hub_generator_fails_at_once_naming_it(repo, hub_calls):
    with pytest.raises(AuditError) as err:
        models.preflight(_params(generator=GeneratorSpec(name="g", source="hub", model=repo)))
    line = str(err.value)
    assert hub_calls == {"model_info": 1, "getaddrinfo": 0}  # asked once; offline, nothing left the machine
    assert repo in line and "\n" not in line and "HF_HUB_OFFLINE is set" in line
    for way in ("network", "HF_HOME", "source: local", "make smoke"):
        assert way in line


def test_preflight_open_clip_tag_offline_names_model_and_tag(hub_calls):
    spec = EncoderSpec(name="e", source="open_clip", model="ViT-B-32", pretrained="laion2b_s34b_b79k")
    with pytest.raises(AuditError) as err:
        models.preflight(_params(encoder=spec))
    line = str(err.value)
    assert hub_calls == {"model_info": 1, "getaddrinfo": 0}
    assert "ViT-B-32" in line and "laion2b_s34b_b79k" in line and "make smoke" in line and "\n" not in line


def test_preflight_unknown_architecture_and_tag_list_valid_ones():
    with pytest.raises(AuditError, match="unknown open_clip architecture 'ViT-Nope'.*ViT-L-14"):
        models.preflight(_params(encoder=EncoderSpec(name="e", model="ViT-Nope", pretrained="openai")))
    with pytest.raises(AuditError, match="no pretrained tag 'nope'.*laion2b_s34b_b79k"):
        models.preflight(_params(encoder=EncoderSpec(name="e", model="ViT-B-32", pretrained="nope")))


def test_preflight_without_hub_settings_makes_one_network_attempt_in_a_subprocess():
    """Without HF_HUB_OFFLINE (or the telemetry switch) the hub is asked once: here, with no network, that one
    attempt fails and preflight stops — no retry, no second connection; with a network the fake id does not
    exist."""
    code = (
        "import json, socket\n"
        "import huggingface_hub\n"
        "from helpers import models, schema\n"
        "from helpers.errors import AuditError\n"
        "calls = {'model_info': 0, 'getaddrinfo': 0}\n"
        "info, lookup = huggingface_hub.HfApi.model_info, socket.getaddrinfo\n"
        "def model_info(self, *a, **k):\n    calls['model_info'] += 1\n    return info(self, *a, **k)\n"
        "def getaddrinfo(*a, **k):\n    calls['getaddrinfo'] += 1\n    return lookup(*a, **k)\n"
        "huggingface_hub.HfApi.model_info, socket.getaddrinfo = model_info, getaddrinfo\n"
        "params = schema.load({'run': 'p', 'generation': {'generators': [{'source': 'hub', 'model': 'imitation-audit/no-such-model-xyz'}]},"
        " 'validation': {'standin': True}})\n"
        "try:\n    models.preflight(params)\nexcept AuditError as e:\n    print('ERR', e)\n"
        "print(json.dumps(calls))\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "HF_HUB_DISABLE_TELEMETRY")}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=PROJECT_ROOT, timeout=120
    )
    lines = out.stdout.strip().splitlines()
    assert lines[0].startswith("ERR") and "imitation-audit/no-such-model-xyz" in lines[0], (
        out.stdout + out.stderr[-2000:]
    )
    assert json.loads(lines[-1]) == {"model_info": 1, "getaddrinfo": 1}


@pytest.fixture(scope="module")
def tiny_arch(tmp_path_factory):
    """The tiny config registered as a built-in open_clip architecture name."""
    import open_clip

    cfg_dir = tmp_path_factory.mktemp("open_clip_cfgs")
    (cfg_dir / "tinytest-arch.json").write_text(json.dumps(models.tiny_configs()["tiny-clip"]["model_cfg"]))
    open_clip.add_model_config(cfg_dir)
    return "tinytest-arch"


def test_open_clip_tag_trained_with_quick_gelu_gets_quick_gelu(monkeypatch, tiny_arch):
    """open_clip 3 only warns when e.g. ViT-L-14 meets the OpenAI weights (trained with QuickGELU)."""
    from open_clip.transformer import QuickGELU

    weights = models.tiny_encoder_dir("tiny-clip") / "open_clip_model.safetensors"
    monkeypatch.setattr("helpers.models.encoders._tag", lambda spec, where: {"hf_hub": "org/repo/", "quick_gelu": True})
    monkeypatch.setattr("helpers.models.encoders._tag_weights", lambda spec, cfg, where: str(weights))
    enc = models.load_encoder(EncoderSpec(name="e", model=tiny_arch, pretrained="sometag"), device="cpu")
    assert any(isinstance(m, QuickGELU) for m in enc.model.modules())
    assert enc.key.startswith(f"open_clip:{tiny_arch}:sometag")


def test_open_clip_random_weights_are_seeded(tiny_arch):
    """pretrained: null (random weights) must give the same weights every time: the cache key relies on it."""
    a = models.load_encoder(EncoderSpec(name="e", model=tiny_arch, pretrained=None), device="cpu")
    b = models.load_encoder(EncoderSpec(name="e", model=tiny_arch, pretrained=None), device="cpu")
    assert a.key == b.key == f"open_clip:{tiny_arch}:random-seed0|float32"
    sa, sb = state(a.model), state(b.model)
    assert all(torch.equal(sa[k], sb[k]) for k in sa)


def test_describe_names_the_models():
    d = models.describe(_params())
    assert d["weights"] == "random"
    assert d["generator"]["source"] == "tiny" and d["generator"]["path"].endswith(
        models.tiny_generator_dir("tiny-sd").name
    )
    assert d["encoder"]["model"] == "tiny-clip"
    hub = models.describe(_params(generator=GeneratorSpec(), encoder=EncoderSpec()))
    assert hub["generator"]["model"] == "stable-diffusion-v1-5/stable-diffusion-v1-5"
    assert hub["encoder"]["quick_gelu"] is True and hub["weights"] == "pretrained"
