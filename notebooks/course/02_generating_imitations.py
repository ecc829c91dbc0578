# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Course 2 · Generating imitations: prompts, seeds and determinism
#
# **Concept.** Stage 02 asks the generator to imitate each artist with one prompt template —
# `Artwork from {artist}` — and makes several images per name. A diffusion model starts from random noise,
# so every image has a *seed*; the audit derives it from the run's seed, the name, the template and the
# image's number (a hash), so any single image can be remade exactly, by anyone, in any order. Same
# prompt and same seed: the same image. Another seed: another image of the same prompt.
#
# The toy world's generator is a small Stable Diffusion pipeline trained here on the toy corpus.

# %% tags=["parameters"]
params_file = "params/demo.yaml"

# %%
import numpy as np
import torch  # noqa: F401 - for the exercises
from PIL import Image

from helpers import generation, models, plots, provenance, schema, selection

params = schema.load(params_file)
config = params.configurations[0]
manifest = generation.read_manifest(params.paths)
artist = selection.read_names(params.paths)["artists"][0]
saved = manifest[(manifest["name"] == artist)].iloc[3]  # the run's fourth imitation of the first artist
print(f"template: {config.template!r}; run seed: {config.seed}; artist: {artist!r}")
pipe = models.load_pipeline(config.generator, params.generation)
call = params.generation.call_settings(config.generator)
print({k: call[k] for k in ("steps", "guidance_scale", "height", "width")})

# %% [markdown]
# ## Exercise 1 — the prompt and the seed
# Write `prompt`, the template with the artist's name put in (`schema.render_prompt(template, name)` does
# it; try by hand), and `seed`, the seed of image number 3 of this artist: call
# `generation.image_seed(run_seed, "imitation", "artists", name, template, index)`.

# %% tags=["exercise:seed"]
prompt = ...  # your code
seed = ...  # your code

# %%
# check
assert prompt is not ... and seed is not ..., "write Exercise 1 in the cell above"
assert prompt == saved["prompt"], f"the prompt should read {saved['prompt']!r}, got {prompt!r}"
assert str(seed) == saved["seed"], (
    "the seed of image 3 is in the run's manifest: check the index (from 0) and the group"
)
print(f"Exercise 1: right. Seed {seed} made {saved['path']}.")

# %% [markdown]
# ## Exercise 2 — remake the image
# Call the pipeline once for `prompt`, with a `torch.Generator("cpu").manual_seed(seed)` and the run's call
# settings (`call["steps"]`, `call["guidance_scale"]`, `call["height"]`, `call["width"]`), and keep the first
# image as `remade` (a PIL image: `pipe(...).images[0]`).

# %% tags=["exercise:remake"]
remade = ...  # your code

# %%
# check
assert remade is not ..., "write Exercise 2 in the cell above"
with Image.open(params.paths.in_run(saved["path"])) as img:
    original = np.asarray(img.convert("RGB"), dtype=float)
difference = np.abs(np.asarray(remade.convert("RGB"), dtype=float) - original).mean()
assert remade.size == (call["width"], call["height"]), f"size {remade.size}: use the run's height and width"
assert difference < 2.0, (
    f"the remade image differs from the run's by {difference:.1f} levels on average: same prompt, seed, steps, guidance?"
)
print(
    f"Exercise 2: right — the same image (mean difference {difference:.2f} of 255 levels; the run made it in a batch)."
)

# %% [markdown]
# ## Exercise 3 — another seed
# Make `other`, the same prompt with seed `seed + 1`. It is another image of the same prompt.

# %% tags=["exercise:other"]
other = ...  # your code

# %%
# check
assert other is not ..., "write Exercise 3 in the cell above"
change = np.abs(np.asarray(other.convert("RGB"), dtype=float) - np.asarray(remade.convert("RGB"), dtype=float)).mean()
assert change > 2.0, "another seed should give another image: did you change the generator's seed?"
print(f"Exercise 3: right — {change:.0f} levels apart on average.")
plots.inline(
    plots.captioned_grid(
        [(params.paths.in_run(saved["path"]), f"run, seed {seed}", None)],
        columns=1,
        title=f"{artist}: image 3 of the run",
        weights=provenance.weights(params),
    )
)

# %% [markdown]
# ## What it means
# Every image of an audit can be checked by anyone with the model: the manifest records prompt and seed.
# Seeds also matter for the numbers: a sweep over generation seeds (`generation.seeds`) shows how much an
# accuracy moves from one set of images to another (`tables/seed_spread.csv`).
