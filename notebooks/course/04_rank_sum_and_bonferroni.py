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
# # Course 4 · The rank-sum test and Bonferroni, by hand and against scipy
#
# **Concept.** Classification shows CLIP can tell imitations apart by name; validation asks whether they
# resemble the artist's *real* work. For artist *a* every imitation *i* gets a score: s_a(i), the mean
# cosine similarity of a's real works to i. If the model imitates a, the scores of a's *own* imitations
# exceed those of the *other* artists' imitations. The one-sided Mann–Whitney (rank-sum) test counts how
# often an own score beats an other score: U = Σ_own Σ_other ([x > y] + ½[x = y]). Testing every artist
# makes some p-values small by luck; Bonferroni multiplies each by the number of tests m.

# %% tags=["parameters"]
params_file = "params/demo.yaml"

# %%
import numpy as np
from scipy import stats as sps  # noqa: F401 - for the exercises

from helpers import encoding, schema, significance, summary, validation

params = schema.load(params_file)
emb = encoding.read_embeddings(params.paths)
imitations = emb.rows("imitation", "artists")
real = emb.rows("real")
table = validation.read_validation(params.paths)
artist = table["artist"].iloc[0]
print(
    f"{len(imitations)} imitations of {imitations['name'].nunique()} artists; {len(real)} real works; first artist: {artist!r}"
)

# %% [markdown]
# ## Exercise 1 — the scores
# `scores`: s_a(i) for the first artist *a* and every imitation *i* (in the order of `imitations`): the mean,
# over a's real works, of their dot product with the imitation's vector (vectors are unit length).
# `own`: a boolean array, True where the imitation is of *a*.

# %% tags=["exercise:scores"]
R = emb.image_vectors[real[real["name"] == artist].index]
M = emb.image_vectors[imitations.index]
scores = ...  # your code
own = ...  # your code

# %%
# check
assert scores is not ... and own is not ..., "write Exercise 1 in the cell above"
assert np.shape(scores) == (len(imitations),), "one score per imitation"
assert np.allclose(scores, (R @ M.T).mean(axis=0), atol=1e-6), (
    "the mean over real works of R·M: average over the right axis?"
)
assert np.asarray(own).sum() == (imitations["name"] == artist).sum(), "own marks the imitations of this artist"
print(f"Exercise 1: right. Mean score: own {scores[own].mean():.3f}, other {scores[~own].mean():.3f}.")

# %% [markdown]
# ## Exercise 2 — U by counting, and the p-value
# `U`: over every pair (own score x, other score y), count 1 when x > y and ½ when x = y. Then the p-value of
# the one-sided test: compute it with `sps.mannwhitneyu(own_scores, other_scores, alternative="greater")`.

# %% tags=["exercise:u"]
U = ...  # your code
p = ...  # your code

# %%
# check
assert U is not ... and p is not ..., "write Exercise 2 in the cell above"
x, y = scores[own], scores[~own]
assert np.isclose(U, significance.mann_whitney_greater(x, y)[0]), "count own-beats-other pairs (½ for ties)"
assert np.isclose(p, table.set_index("artist").loc[artist, "p_paper_test"]), (
    "the run's p-value: alternative='greater', own first"
)
print(f"Exercise 2: right. U = {U:.0f} of {len(x) * len(y)} pairs (AUC {U / (len(x) * len(y)):.2f}), p = {p:.2g}.")

# %% [markdown]
# ## Exercise 3 — Bonferroni across artists
# `adjusted`: every validated artist's p-value (the `p_paper_test` column of `table`: the paper's test) times the number of tests
# m, capped at 1; `fraction`: the share of artists whose adjusted p-value is at most α = 0.05.

# %% tags=["exercise:bonferroni"]
adjusted = ...  # your code
fraction = ...  # your code

# %%
# check
assert adjusted is not ... and fraction is not ..., "write Exercise 3 in the cell above"
assert np.allclose(adjusted, table["p_adjusted_paper_test"]), "min(1, m · p) with m the number of validated artists"
assert np.isclose(fraction, summary.read_summary(params.paths)["fraction_significant"]), (
    "the share with adjusted p ≤ 0.05"
)
print(f"Exercise 3: right. {fraction:.0%} of {len(table)} artists significant after Bonferroni (paper: 90%).")

# %% [markdown]
# ## What it means
# Bonferroni controls the chance of *any* false positive across all artists — if the p-values are right.
# The run also tests the *centred* score (each imitation's scores minus their mean over artists), which
# discounts imitations that resemble everyone's work: `tables/validation_centered.csv`. Whether these
# p-values are right is the subject of notebook 06: they count each imitation as an independent
# observation, and it is not.
