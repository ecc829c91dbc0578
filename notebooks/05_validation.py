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
# # 05 · Validation — do imitations resemble the artist's real work?
#
# Classification shows that CLIP can tell imitations apart by name; validation asks whether they look
# like the *artist's actual work*. For each artist, every imitation *i* gets a score: the similarity of
# the artist's real works to *i* (averaged over real works). If the model imitates the artist, the
# scores of that artist's own imitations are higher than those of other artists' imitations.
#
# Two tests ask this, and the difference between them is the lesson of this stage:
#
# - **the paper's test (imitations as independent)** — a one-sided Mann–Whitney U test per artist, own
#   imitations against everyone else's, Bonferroni across artists. The paper finds p < 0.05 for **90%** of
#   artists. It counts the ten imitations of one prompt as ten independent observations, but they share the
#   prompt and the style the model learnt for it: they are one cluster, and the test is far too confident;
# - **the artist-level test (artists as units)** — the primary claim here: the pairing of an artist's works
#   with that artist's imitations is compared with every *mismatched* pairing (one artist's works, another
#   artist's imitations), after removing how close each set of works and each set of imitations is to
#   everything; Benjamini–Hochberg across artists.
#
# Neither test's error rate is assumed: every run repeats both on **negative controls** where no artist is
# imitated — each artist given another artist's works, and the random-name imitations standing in for the
# artists' — and reports how often each test calls an artist significant there.

# %% tags=["parameters"]
params_file = "params/smoke.yaml"

# %% [markdown]
# **Parameters**
#
# - `params_file` — the run's params YAML; this stage reads `validation` (how real works per imitation
#   are aggregated, each test's correction, alpha, the bootstrap of the effect intervals, the number of
#   derangements of the negative control).

# %%
from IPython.display import display

from helpers import encoding, provenance, record, schema, selection, summary, validation

params = schema.load(params_file)
provenance.print_caveats(params)

# %% [markdown]
# ## Validate
# Stage 05 reads the embeddings of stage 03, the artists stage 01 could not find enough real works for, and
# the origin of each real work (sampled from the caption metadata — so possibly a training image —, a user's
# folder, the toy world's held-out works, or stand-ins). With several origins, the headline is broken down
# by origin below; the `origin` column of the table says each artist's.

# %%
embeddings = encoding.read_all_embeddings(params)
excluded = selection.read_excluded(params.paths)
real_works = selection.read_real_works(params.paths)
with record.stage(params, "05_validation"):
    result = validation.run_stage(params, embeddings, excluded, real_works)
    numbers = summary.write_summary(params)
print(summary.validation_lines(numbers))
display(result.first.table)

# %% [markdown]
# ## By the origin of the real works
# Real works sampled from the caption metadata may be images the generator was trained on: closeness to them
# is partly memorisation, not imitation of the artist's style. Both tests' share of significant artists for
# each origin (shown only when there is more than one; the tests run over all artists at once).

# %%
display(numbers.get("by_origin") or f"one origin: {numbers['real_work_origins']}")

# %% [markdown]
# ## Are the tests calibrated? The negative controls
# Left: on the controls every null hypothesis is true, so a calibrated test's p-values are uniform — at
# each level α it rejects at most a share α (on or below the diagonal). Right: the share of artists each
# test calls significant on the true pairing, beside the share it calls significant on the controls —
# every one of those is a false positive.

# %%
display(result.first.controls)
result.figures.get("calibration", "no negative control: fewer than two validated artists")

# %% [markdown]
# ## The centred statistic (hubness)
# Raw cosine similarities are not calibrated across artists: an imitation that resembles *every*
# artist's work scores high for its own artist too. The centred score subtracts, for each imitation, its
# mean score over all artists with real works, so only artist-specific resemblance counts (the paper's
# test on that score). The artist-level test removes the same effect by its centring.

# %%
display(result.first.centered)

# %% [markdown]
# ## Own versus other imitations
# The comparison both tests are built on.

# %%
result.figures["own_vs_other"]

# %% [markdown]
# ## The paper's test: p-values against the corrected threshold

# %%
result.figures["pvalues"]

# %% [markdown]
# ## Artists not validated
# Artists without enough real works are listed, never dropped silently.

# %%
display(result.first.excluded)
numbers
