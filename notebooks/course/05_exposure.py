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
# # Course 5 · Exposure: fewer training captions, weaker imitation
#
# **Concept.** A model can only imitate an artist it has seen: the paper keeps artists named in more than
# 100 captions. In the toy world the caption count of every fictional artist is set, from 10 to 500, and
# `params/demo-all.yaml` audits *all* of them (`selection.min_images: 0`). Does accuracy grow with exposure?
# Spearman's ρ correlates the *ranks* of two lists — robust to the long tail of caption counts.

# %% tags=["parameters"]
params_file = "params/demo-all.yaml"

# %%
import numpy as np
import pandas as pd
from scipy import stats as sps  # noqa: F401 - for the exercises

from helpers import classification, schema, selection, significance

params = schema.load(params_file)
table = classification.read_accuracy(params.paths)
accuracy = table[table["group"] == "artists"].set_index("name")["accuracy"]
counts = selection.read_artists(params.paths).set_index("artist")["caption_count"].loc[accuracy.index]
data = pd.DataFrame({"captions": counts, "accuracy": accuracy}).sort_values("captions")
data.head()

# %% [markdown]
# ## Exercise 1 — Spearman's ρ by hand
# Rank both columns (average ranks for ties: `pandas.Series.rank()` does it), then `rho` is the Pearson
# correlation of the two rank lists (`np.corrcoef`).

# %% tags=["exercise:spearman"]
rho = ...  # your code

# %%
# check
assert rho is not ..., "write Exercise 1 in the cell above"
expected, p = significance.spearman(data["captions"].to_numpy(), data["accuracy"].to_numpy())
assert np.isclose(rho, expected), "rank both columns with average ranks, then correlate the ranks"
assert rho > 0, "in the toy world exposure helps: ρ should come out positive — check the columns"
print(f"Exercise 1: right. ρ = {rho:.2f} (p = {p:.2g}): the more captions, the better the imitation.")

# %% [markdown]
# ## Exercise 2 — what the selection rule does
# `selected` and `excluded`: the mean accuracy of the artists with more than 100 captions, and of the others.

# %% tags=["exercise:threshold"]
selected = ...  # your code
excluded = ...  # your code

# %%
# check
assert selected is not ... and excluded is not ..., "write Exercise 2 in the cell above"
assert np.isclose(selected, data.loc[data["captions"] > 100, "accuracy"].mean()), "strictly more than 100 captions"
assert np.isclose(excluded, data.loc[data["captions"] <= 100, "accuracy"].mean()), "100 or fewer"
assert selected > excluded, "the often-captioned artists are imitated better"
print(f"Exercise 2: right. > 100 captions: {selected:.0%}; ≤ 100: {excluded:.0%}.")

# %% [markdown]
# ## What it means
# The rule keeps the artists the model could have learnt — and so it raises the audit's accuracy compared
# with auditing every name. An audit should say which artists it measured and why: `tables/selection.csv`
# gives every candidate's count and reason. With real models the counts come from LAION's captions
# (`selection.metadata`), and `figures/accuracy_vs_captions.png` shows this relation for any run.
