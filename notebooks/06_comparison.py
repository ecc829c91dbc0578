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
# # 06 · Comparison — how much do the numbers depend on the setup?
#
# The paper's 81% comes from one prompt, one CLIP, one generator and one set of seeds. A sweep runs the
# same audit for every combination of the listed generators, prompt templates, generation seeds,
# encoders, label templates, numbers of real works and post-processing chains (`transforms`: JPEG, resizing,
# cropping, noise, blur, or a parallel folder of protected works), and this notebook sets the configurations
# side by side. `make reproduce` runs it after the five stages whenever a run has more than one configuration.
#
# Differences are tested only between configurations that differ in one thing, and only in what that
# thing can change (the number of real works changes validation and the ceiling, not a single prediction;
# the label template changes classification and the ceiling, not validation). **The artists are the units**:
# each measure is paired artist by artist — Wilcoxon's signed-rank test over the per-artist differences,
# with a paired-bootstrap interval — and Holm's correction runs across every comparison of the sweep. When
# two configurations classify the *same images* (they differ in the encoder or the label template), the exact
# McNemar test over images is shown beside it, named as image-level: it counts images as independent, which
# they are not. Seeds show how much of a difference the luck of generation alone makes.

# %% tags=["parameters"]
params_file = "params/sweep-demo.yaml"

# %% [markdown]
# **Parameters**
#
# - `params_file` — the run's params YAML; this step reads every configuration's `summary.json` and
#   stage 04's predictions and accuracies, and `classification.bootstrap` / `confidence` for the
#   intervals of the differences.

# %%
from IPython.display import display

from helpers import comparison, provenance, record, schema

params = schema.load(params_file)
provenance.print_caveats(params)

# %% [markdown]
# ## Every configuration
# One row per configuration: its axes and its headline numbers (equal to its own `summary.json`).

# %%
with record.stage(params, "06_comparison"):
    result = comparison.run_stage(params)
display(result.comparison)

# %% [markdown]
# ## Accuracy with intervals
# Every configuration at once, against the paper's number.

# %%
result.figures["forest"]

# %% [markdown]
# ## Paired differences
# Configurations that differ in exactly one axis: for each measure that axis can change, the mean over
# artists of the per-artist difference (a − b), its interval, the artist-level p-value, the same after Holm's
# correction over the whole sweep, and, for the same images classified two ways, the image-level McNemar p.

# %%
display(result.paired)

# %% [markdown]
# ## Seed to seed
# For configurations that differ only in the generation seed: how much the mean accuracy moves between
# seeds, beside the average half-width of one configuration's interval over artists.

# %%
display(result.seed_spread)

# %% [markdown]
# ## The signal against post-processing
# With `transforms`: for each kind of processing, the mean accuracy (with its interval over artists) and the
# fraction of artists the artist-level test validates, at each strength (stronger to the right), beside the
# untransformed configuration (dashed) and chance (dotted). The paired differences above say, artist by
# artist, which of these moves is more than luck. A run without transforms has no such figure.

# %%
result.figures.get("transforms", "This run has no transforms.")
