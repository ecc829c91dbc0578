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
# scores of that artist's own imitations are higher than those of other artists' imitations. A
# one-sided Mann–Whitney U test checks this per artist, and the p-values are corrected across artists
# (Bonferroni, as in the paper). The paper finds p < 0.05 for **90%** of artists.

# %% tags=["parameters"]
params_file = "params/smoke.yaml"

# %% [markdown]
# **Parameters**
#
# - `params_file` — the run's params YAML; this stage reads `validation` (how real works per imitation
#   are aggregated, the correction, alpha).

# %%
from IPython.display import display

from helpers import encoding, provenance, record, schema, selection, summary, validation

params = schema.load(params_file)
provenance.print_caveats(params)

# %% [markdown]
# ## Validate
# Stage 05 reads the embeddings of stage 03 and the artists stage 01 could not find enough real works for.

# %%
embeddings = encoding.read_all_embeddings(params)
excluded = selection.read_excluded(params.paths)
with record.stage(params, "05_validation"):
    result = validation.run_stage(params, embeddings, excluded)
    numbers = summary.write_summary(params)
print(f"significant after {params.validation.correction} correction: "
      f"{numbers['fraction_significant']:.0%} of {numbers['n_validated']} artists "
      f"(paper: {summary.PAPER['fraction_significant']:.0%}); {numbers['n_excluded_validation']} excluded; "
      f"centred statistic: {numbers['fraction_significant_centered']:.0%}")
display(result.first.table)

# %% [markdown]
# ## The centred statistic (hubness)
# Raw cosine similarities are not calibrated across artists: an imitation that resembles *every*
# artist's work scores high for its own artist too. The centred score subtracts, for each imitation, its
# mean score over all artists with real works, so only artist-specific resemblance counts. An artist
# significant by the paper's statistic but not by the centred one owes the verdict to such imitations.

# %%
display(result.first.centered)

# %% [markdown]
# ## Own versus other imitations
# For each artist, the scores of their own imitations against those of everyone else's.

# %%
result.figures["own_vs_other"]

# %% [markdown]
# ## p-values against the corrected threshold

# %%
result.figures["pvalues"]

# %% [markdown]
# ## Artists not validated
# Artists without enough real works are listed, never dropped silently.

# %%
display(result.first.excluded)
numbers
