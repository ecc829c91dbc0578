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
# # 04 · Classification — can CLIP tell whose style an imitation is?
#
# Each imitation gets the label whose prompt embedding has the highest cosine similarity with it
# (zero-shot top-1 classification among all artists of the run). If the model imitates an artist
# recognisably, CLIP names that artist. The paper: the artist is recovered **81.0%** of the time on
# average over artists, against **1.4%** chance (1/70) — and only **8.6%** when the same template is
# filled with random person names and each image is classified among those names, which shows that
# the success comes from the artists' styles, not from CLIP reading a name back.
#
# All numbers come from `helpers.stats`: per-artist accuracy with a Wilson (or exact) interval, the mean
# over artists with a seeded bootstrap interval, and a permutation test against chance.

# %% tags=["parameters"]
params_file = "params/smoke.yaml"

# %% [markdown]
# **Parameters**
#
# - `params_file` — the run's params YAML; this stage reads `classification` (top-k, interval method,
#   confidence, bootstrap and permutation counts, sample-size repeats).

# %%
from IPython.display import display

from helpers import classification, encoding, provenance, record, schema, selection, summary

params = schema.load(params_file)
provenance.print_caveats(params)

# %% [markdown]
# ## Classify
# Stage 04 reads the embeddings of stage 03 and the selected artists of stage 01 (with their caption
# counts).

# %%
embeddings = encoding.read_all_embeddings(params)
artists = selection.read_artists(params.paths)
with record.stage(params, "04_classification"):
    result = classification.run_stage(params, embeddings, artists)
headline = result.first.headline
display(summary.against_paper(headline))
artists = headline["artists"]
print(
    f"artists: {artists['accuracy']:.1%} [{artists['accuracy_ci_low']:.1%}, {artists['accuracy_ci_high']:.1%}], "
    f"permutation p = {artists['permutation_p']:.3g}"
)

# %% [markdown]
# ## Accuracy per artist
# The headline is a mean over artists; here is each artist behind it.

# %%
result.figures["accuracy_per_artist"]

# %% [markdown]
# ## Who is mistaken for whom
# Errors are rarely random: confusions show which styles the models run together.

# %%
result.figures["confusion"]

# %% [markdown]
# ## How many images per artist are enough?
# The paper generated 10 per artist: would fewer have told the same story?

# %%
result.figures["sample_size"]

# %% [markdown]
# ## The ceiling: how well does CLIP name the artists from their real works?
# The artists' *real* works classified among the same label prompts. An imitation accuracy near this
# ceiling means the imitations are as recognisable as the originals; far below, that they are not. Each
# point is an artist; the diagonal is "imitations as recognisable as the real works".

# %%
print(
    f"ceiling: {headline['ceiling']['ceiling_accuracy']}; imitation accuracy / ceiling: "
    f"{headline['ceiling']['accuracy_vs_ceiling']}"
)
result.figures.get("accuracy_vs_ceiling", "no real works: no ceiling")

# %% [markdown]
# ## Exposure: are often-captioned artists imitated better?
# The paper keeps artists named in more than 100 captions, assuming that imitation needs exposure; with
# verified counts this measures it (Spearman's ρ, and the fitted exposure threshold: docs/methods.md).

# %%
result.figures["accuracy_vs_captions"]
