"""Params (helpers.schema): every key typed and checked, defaults in one place, one clear line for each
mistake — and the candidate artists checked row by row before any model loads (helpers.runner.preflight)."""

import subprocess
import sys

import pytest
import yaml

from helpers import provenance, runner, schema, selection
from helpers.errors import AuditError
from helpers.paths import PARAMS_DIR, PROJECT_ROOT


def smoke() -> dict:
    return yaml.safe_load((PARAMS_DIR / "smoke.yaml").read_text())


def load_with(tmp_path, data, name="p.yaml"):
    f = tmp_path / name
    f.write_text(yaml.safe_dump(data, allow_unicode=True))
    return schema.load(f)


def test_shipped_profiles_load():
    paper, sm = schema.load("params/paper.yaml"), schema.load("params/smoke.yaml")
    assert provenance.weights(paper) == "pretrained" and provenance.weights(sm) == "random"
    (config,) = paper.configurations
    assert config.name is None and config.seed == paper.seed == 0
    assert config.generator.model == "stable-diffusion-v1-5/stable-diffusion-v1-5"
    assert config.template == "Artwork from {artist}" and paper.generation.images_per_name == 10
    assert (config.encoder.model, config.encoder.pretrained) == ("ViT-L-14", "openai")
    assert config.label_template == "Artwork from {artist}"
    assert paper.validation.correction == "bonferroni" and paper.selection.min_images == 100


def test_paper_yaml_lists_every_key_with_the_code_defaults():
    """params/paper.yaml documents every key; its values equal the schema's defaults except where the
    file says otherwise on purpose (run name, limit, description)."""
    written = yaml.safe_load((PARAMS_DIR / "paper.yaml").read_text())
    defaults = schema.Params(run="paper").model_dump()

    def keys(d, prefix=""):
        out = set()
        for k, v in d.items():
            out.add(prefix + k)
            if isinstance(v, dict):
                out |= keys(v, prefix + k + ".")
        return out

    assert keys(written) == keys(defaults)
    for section in ("selection", "random_names", "generation", "encoding", "classification", "validation"):
        assert written[section] == defaults[section], section


@pytest.mark.parametrize(
    "path, value, expect",
    [
        (("generation", "stepz"), 3, "unknown key 'generation.stepz'"),
        (("colour",), "red", "unknown key 'colour'"),
        (("generation", "steps"), "ten", "'generation.steps'"),
        (("generation", "steps"), 0, "'generation.steps'"),
        (("generation", "images_per_name"), -2, "'generation.images_per_name'"),
        (("generation", "batch_size"), 2.5, "'generation.batch_size'"),
        (("generation", "templates"), ["Artwork from someone"], "no {artist} placeholder"),
        (("classification", "label_templates"), ["a painting"], "no {artist} placeholder"),
        (("classification", "label_template"), "Art by {artist}", "label_template is now label_templates, a list"),
        (("generation", "seeds"), [1, 1], "seeds repeat 1"),
        (("validation", "max_works"), [1, 0], "'validation.max_works"),
        (("generation", "height"), 100, "multiples of 8"),
        (("validation", "alpha"), 1.5, "'validation.alpha'"),
        (("validation", "correction"), "sidak", "'validation.correction'"),
        (("run",), "../escape", "'run'"),
        (("artists", "file"), "params/nope.csv", "does not exist"),
        (("selection", "metadata"), "data/none/*.parquet", "matches no file"),
        (("selection", "metadata"), "data/none/*.parquet", "`python -m helpers.toyworld for-params "),
    ],
)
def test_bad_params_give_one_line_naming_the_key(tmp_path, path, value, expect):
    data = smoke()
    target = data
    for key in path[:-1]:
        target = target.setdefault(key, {})
    target[path[-1]] = value
    if path == ("selection", "metadata"):
        data["selection"]["synthetic"] = False
    with pytest.raises(AuditError) as err:
        load_with(tmp_path, data)
    text = str(err.value)
    assert expect in text
    assert "\n" not in text and "Fix:" in text


def test_a_sweep_is_the_product_of_its_lists_in_the_documented_order(tmp_path):
    data = smoke()
    data["generation"]["templates"] = ["Artwork from {artist}", "A painting by {artist}"]
    data["generation"]["seeds"] = [0, 5]
    data["encoding"]["encoders"] = [
        dict(data["encoding"]["encoders"][0]),
        {**data["encoding"]["encoders"][0], "name": "clip-b", "model": "tiny-clip-b"},
    ]
    data["classification"] = {"label_templates": ["Artwork from {artist}", "{artist}"]}
    configs = load_with(tmp_path, data).configurations
    assert len(configs) == 2 * 2 * 2 * 2
    # order: generator, template, seed, encoder, label template, real works; the name spells the varying axes
    assert [c.name for c in configs[:5]] == [
        "t1_s0_tiny-clip_l1",
        "t1_s0_tiny-clip_l2",
        "t1_s0_clip-b_l1",
        "t1_s0_clip-b_l2",
        "t1_s5_tiny-clip_l1",
    ]
    assert configs[5].generation_key == "t1_s5" and configs[-1].generation_key == "t2_s5"
    assert len({c.generation_key for c in configs}) == 4  # images are shared by encoders and label templates
    last = configs[-1]
    assert (last.template, last.seed, last.encoder.name, last.label_template) == (
        "A painting by {artist}",
        5,
        "clip-b",
        "{artist}",
    )
    assert last.axes == {
        "generator": "tiny-sd",
        "template": 2,
        "seed": 5,
        "encoder": "clip-b",
        "label_template": 2,
        "max_works": 2,
        "transform": "none",
    }
    data["validation"]["max_works"] = [1, 2]
    assert len(load_with(tmp_path, data).configurations) == 32


def test_a_params_file_with_one_value_per_list_is_a_run_of_one_configuration():
    (config,) = schema.load("params/smoke.yaml").configurations
    assert config.name is None and config.generation_key is None and config.seed == 0


def test_generators_and_encoders_need_distinct_folder_safe_names(tmp_path):
    data = smoke()
    data["generation"]["generators"] = [data["generation"]["generators"][0]] * 2
    with pytest.raises(AuditError, match="generator names repeat 'tiny-sd'"):
        load_with(tmp_path, data)
    data = smoke()
    data["encoding"]["encoders"][0]["name"] = "../up"
    with pytest.raises(AuditError, match=r"encoding.encoders\[0\].name"):
        load_with(tmp_path, data)


def test_per_generator_call_settings_override_the_sections(tmp_path):
    data = smoke()
    data["generation"]["generators"] = [
        data["generation"]["generators"][0],
        {
            "name": "turbo",
            "source": "tiny",
            "model": "tiny-sd-turbo",
            "steps": 1,
            "guidance_scale": 0.0,
            "scheduler": "default",
            "height": 32,
            "width": 32,
        },
    ]
    gen = load_with(tmp_path, data).generation
    assert gen.call_settings(gen.generators[0]) == {
        "steps": 2,
        "guidance_scale": 7.5,
        "height": 64,
        "width": 64,
        "scheduler": "pndm",
    }
    assert gen.call_settings(gen.generators[1]) == {
        "steps": 1,
        "guidance_scale": 0.0,
        "height": 32,
        "width": 32,
        "scheduler": "default",
    }
    data["generation"]["generators"][1]["height"] = 30
    with pytest.raises(AuditError, match="multiples of 8 \\(got 30x32\\)"):
        load_with(tmp_path, data)


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(AuditError, match="does not exist"):
        schema.load(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("run: [unclosed\n")
    with pytest.raises(AuditError, match="not valid YAML"):
        schema.load(bad)
    bad.write_text("- just\n- a list\n")
    with pytest.raises(AuditError, match="mapping"):
        schema.load(bad)


def test_render_prompt_is_literal():
    assert schema.render_prompt("Artwork from {artist}", "{0.__class__}") == "Artwork from {0.__class__}"
    assert schema.render_prompt("{artist} by {artist}", "Loish") == "Loish by Loish"


def test_cli_bad_params_exit_2_with_one_line_before_any_model(tmp_path):
    data = smoke()
    data["generation"]["stepz"] = 3
    f = tmp_path / "bad.yaml"
    f.write_text(yaml.safe_dump(data))
    out = subprocess.run(
        [sys.executable, "-m", "helpers.runner", "--params", str(f)],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=120,
    )
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "generation.stepz" in lines[0], out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize(
    "content, expect",
    [
        ("artist,alive,online_presence\n", "list is empty"),
        ("artist\nLoish\n loish \n", "duplicates row 1"),
        ('artist\nLoish\n"Bad\tName"\n', "control character"),
        ('artist\nLoish\n"   "\n', "empty or only spaces"),
        ("name\nLoish\n", "no 'artist' column"),
        ("artist,alive\nLoish,maybe\n", "not true/false"),
    ],
)
def test_bad_artist_lists_stop_before_any_stage(tmp_path, content, expect, monkeypatch):
    """The schema checks the file exists; the runner's preflight reads every row (stage 01's reader) and
    stops before any model is asked for."""
    csv = tmp_path / "artists.csv"
    csv.write_text(content)
    data = smoke()
    data["artists"]["file"] = str(csv)
    params = load_with(tmp_path, data)
    asked = []
    monkeypatch.setattr("helpers.models.preflight", lambda p: asked.append(p))
    with pytest.raises(AuditError) as err:
        runner.preflight(params, ["01_selection", "02_generation"])
    assert expect in str(err.value) and str(csv) in str(err.value)
    assert asked == []  # no model was asked for
    with pytest.raises(AuditError, match=expect):
        selection.check_inputs(params)


def test_binary_artists_file_is_named(tmp_path):
    csv = tmp_path / "artists.csv"
    csv.write_bytes(b"\xff\xfe\x00artist\x00\x9c\x80")
    data = smoke()
    data["artists"]["file"] = str(csv)
    with pytest.raises(AuditError, match="UTF-8") as err:
        runner.preflight(load_with(tmp_path, data), ["01_selection"])
    assert str(csv) in str(err.value)


def test_no_code_ever_trusts_remote_code():
    """Trust boundary: no model load may run code from a repository (every file of the package, at any depth)."""
    src = PROJECT_ROOT / "src" / "helpers"
    files = sorted(src.rglob("*.py"))
    assert len(files) > 20 and any(p.parent.name == "models" for p in files)
    offenders = [str(p) for p in files if "trust_remote_code" in p.read_text()]
    assert offenders == []


@pytest.mark.parametrize("profile", sorted(p.name for p in PARAMS_DIR.glob("*.yaml")))
def test_every_shipped_profile_loads(profile):
    cfg = schema.load(PARAMS_DIR / profile)
    assert cfg.run == profile.removesuffix(".yaml")


def test_an_open_clip_architecture_without_weights_is_a_random_weights_run(tmp_path):
    data = yaml.safe_load((PARAMS_DIR / "paper.yaml").read_text())
    data["encoding"]["encoders"][0]["pretrained"] = None
    assert provenance.weights(schema.load(data)) == "random"
    assert provenance.weights(schema.load("params/paper.yaml")) == "pretrained"


def test_tiny_generator_with_safety_checker_is_refused(tmp_path):
    data = smoke()
    data["generation"]["safety_checker"] = True
    with pytest.raises(AuditError, match="tiny generators have no safety checker"):
        load_with(tmp_path, data)
