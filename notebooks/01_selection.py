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
# # 01 · Selection — which artists does the audit measure?
#
# Casper et al. (2023) audited *living professional digital artists* whose names appear in the captions
# of **more than 100 images** of LAION-aesthetics, the data Stable Diffusion was fine-tuned on, and who
# have an online presence. A model can only learn to imitate a name it has seen often, so the caption
# count is the selection criterion that matters for the measurement; "alive" and "online presence" are
# the curation criteria that make the audit about working artists.
#
# This notebook counts caption mentions of every candidate (one pass over the metadata with a
# multi-pattern matcher, `helpers.metadata`), applies the criteria (`helpers.selection`), draws the random-names baseline
# (the same number of ordinary person names), and finds each artist's real works for stage 05.

# %% tags=["parameters"]
params_file = "params/smoke.yaml"

# %% [markdown]
# **Parameters**
#
# - `params_file` — the run's params YAML. Every setting of the run lives there (this notebook reads
#   `artists`, `selection`, `random_names` and the real-works keys of `validation`); see `params/paper.yaml` for
#   each key with its meaning. `make reproduce PARAMS=...` passes it; in JupyterLab, edit it here.

# %%
from IPython.display import display

from helpers import provenance, record, schema, selection

params = schema.load(params_file)
provenance.print_caveats(params)

# %% [markdown]
# ## Count, select, draw the baseline

# %%
with record.stage(params, "01_selection"):
    result = selection.run_stage(params)
print(
    f"{len(result.artists)} artists selected out of {len(result.table)} candidates; "
    f"{len(result.random_names)} random names drawn"
)

# %% [markdown]
# ## How often is each candidate named in the captions?
# Who passes the paper's rule, and by how much: the figure's caption says how to read it.

# %%
result.figures["selection_counts"]

# %% [markdown]
# ## Selected artists

# %%
display(result.table[result.table["selected"]])

# %% [markdown]
# ## Excluded, and why
# Nothing is dropped silently: each candidate that is not measured is listed with its reason.

# %%
display(result.table.loc[~result.table["selected"], ["artist", "caption_count", "reason"]])

# %% [markdown]
# ## Baseline names and real works
# The random names are ordinary person names from Faker (fixed seed, recorded in `random_names.csv`):
# the same prompt template with a name that is *not* an artist shows how much of the classification
# success comes from the name itself. Artists without enough real works are excluded from validation
# (stage 05) and listed here and in `summary.json`.

# %%
display(result.random_names.head(10))
print(
    f"real works: {len(result.real_works)} files for "
    f"{result.real_works['artist'].nunique() if len(result.real_works) else 0} artists"
    + (" (stand-ins are made in 02_generation)" if params.validation.standin else "")
)
display(result.excluded_validation)

# %% [markdown]
# ## One work, one artist; and what the captions said
# A work filed under two artists (the same file, or the same image re-encoded or resized: a perceptual hash
# within `validation.duplicate_distance` bits) is nobody's: every copy is dropped and listed here. For works
# sampled from the caption metadata (`helpers.metadata.sample_real_work_urls`, then
# `helpers.download.download_real_works`), only captions that credit the artist as author count ("by X",
# "X's painting": `validation.credit_forms`), never a style reference ("in the style of X":
# `validation.style_forms`) or a caption naming two candidates; the table counts the captions dropped for
# each reason.

# %%
display(result.duplicates)
display(result.caption_drops if result.caption_drops is not None else "no works sampled from the metadata here")
if len(result.real_works):
    display(result.real_works.groupby("origin").size().rename("works"))

# %% [markdown]
# ## Pointing this at real LAION-aesthetics metadata
# Download the LAION-aesthetics caption metadata as parquet (columns `TEXT` for the caption and `URL`,
# plus `AESTHETIC_SCORE` in the 6+ subsets), then set in your params file
# `selection.metadata: /data/laion-aesthetics/*.parquet` (a file, a folder or a glob) and, if you filter
# by score, `selection.score_column` and `selection.min_score`. The same scan runs headless as
# `python -m helpers.selection --metadata GLOB --artists params/artists.csv --out counts.csv`.
