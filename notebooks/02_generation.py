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
# # 02 · Generation — ask the model to imitate each artist
#
# Every selected artist gets `generation.images_per_name` images from the prompt template
# (paper: `Artwork from {artist}`, 10 images, Stable Diffusion v1.5), and so does every random name.
# Each image has its own seed, derived from the run seed, the name and the image index, so any single
# image can be regenerated exactly. Images are written atomically and a rerun skips finished ones, so
# an interrupted run resumes where it stopped. The loop lives in `helpers.generation`; for several
# GPUs run `accelerate launch -m helpers.generation --params FILE` — the images are the same.

# %% tags=["parameters"]
params_file = "params/smoke.yaml"

# %% [markdown]
# **Parameters**
#
# - `params_file` — the run's params YAML; this stage reads `generation` (model, template, images per
#   name, size, steps, guidance, scheduler, batch size, precision) and `validation.standin`.

# %%
from helpers import generation, provenance, record, schema, selection

params = schema.load(params_file)
provenance.print_caveats(params)

# %% [markdown]
# ## Generate
# Stage 02 reads the names stage 01 chose (`artists.csv`, `random_names.csv`).

# %%
names = selection.read_names(params.paths)
with record.stage(params, "02_generation"):
    result = generation.run_stage(params, names)
result.counts()

# %% [markdown]
# ## What the imitations look like
# Look before measuring. With random weights these are noise patterns — the pipeline ran, but no model was
# asked anything.

# %%
result.figures["generated_examples"]
