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
# # Course 3 · Accuracy, intervals, and why the random-names baseline matters
#
# **Concept.** Stage 04 classifies every imitation among the artists' label prompts. For artist *a* with
# n_a imitations of which c_a are named *a*, the accuracy is c_a / n_a; the headline is the *mean over
# artists*. With 10 images per artist an accuracy is uncertain: the Wilson interval says how much. And a
# high accuracy alone proves little: CLIP might just read the name back from something in the image. The
# **baseline** fills the same template with random person names the model never learnt as artists and
# classifies those images among the random names' labels: if it is near chance, the artists' accuracy
# comes from their styles.

# %% tags=["parameters"]
params_file = "params/demo.yaml"

# %%
import numpy as np
import pandas as pd
from scipy import stats as sps  # noqa: F401 - for the exercises

from helpers import classification, schema, stats, summary

params = schema.load(params_file)
numbers = summary.read_summary(params.paths)
predictions = classification.read_predictions(params.paths)
artists = predictions[predictions["group"] == "artists"]
randoms = predictions[predictions["group"] == "random_names"]
artists.head()

# %% [markdown]
# ## Exercise 1 — accuracy per artist, and the headline
# `per_artist`: a pandas Series, artist → share of their imitations classified correctly; `mean_accuracy`:
# its mean (every artist counts once, whatever their number of images).

# %% tags=["exercise:accuracy"]
per_artist = ...  # your code: a groupby
mean_accuracy = ...  # your code

# %%
# check
assert per_artist is not ... and mean_accuracy is not ..., "write Exercise 1 in the cell above"
table = classification.read_accuracy(params.paths)
expected = table[table["group"] == "artists"].set_index("name")["accuracy"]
assert isinstance(per_artist, pd.Series) and set(per_artist.index) == set(expected.index), (
    "one value per artist, indexed by name"
)
assert np.allclose(per_artist.loc[expected.index], expected), (
    "per artist: the mean of `correct` over that artist's images"
)
assert np.isclose(mean_accuracy, numbers["accuracy"]), "the headline is the unweighted mean over artists"
print(f"Exercise 1: right. Mean accuracy {mean_accuracy:.1%} over {len(per_artist)} artists.")

# %% [markdown]
# ## Exercise 2 — a Wilson interval
# For the first artist of `expected` with c correct of n, the 95% Wilson interval is
# (p̂ + z²/2n ± z·√(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n), with p̂ = c/n and z = 1.96 (exactly
# `sps.norm.ppf(0.975)`). Compute `low` and `high`.

# %% tags=["exercise:wilson"]
first = table[table["group"] == "artists"].iloc[0]
c, n = int(first["n_correct"]), int(first["n_images"])
low, high = ..., ...  # your code

# %%
# check
assert low is not ... and high is not ..., "write Exercise 2 in the cell above"
assert 0 <= low <= c / n <= high <= 1, "the interval holds the estimate c/n and stays within [0, 1]"
assert np.allclose((low, high), stats.proportion_interval(c, n, 0.95, "wilson"), atol=1e-9), (
    "check the formula: z², 2n and 4n²"
)
print(f"Exercise 2: right. {first['name']}: {c}/{n} = {c / n:.0%}, 95% interval [{low:.0%}, {high:.0%}].")

# %% [markdown]
# ## Exercise 3 — the baseline and chance
# `baseline`: the mean accuracy of the random names (each classified among the random names' labels, as
# `randoms` holds them); `chance`: the accuracy of guessing among K names, K the number of random names.

# %% tags=["exercise:baseline"]
baseline = ...  # your code
chance = ...  # your code

# %%
# check
assert baseline is not ... and chance is not ..., "write Exercise 3 in the cell above"
assert np.isclose(baseline, numbers["accuracy_random_names"]), "the same mean-over-names accuracy, for the random names"
assert np.isclose(chance, 1 / randoms["name"].nunique()), "chance is 1/K"
print(f"Exercise 3: right. Artists {mean_accuracy:.0%}, random names {baseline:.0%}, chance {chance:.0%}.")

# %% [markdown]
# ## What it means
# The artists are named far above chance, the random names near it: the generator imitates *styles* it
# learnt from the captions, and CLIP recognises them — not names written into the images. The headline's
# interval (a bootstrap over artists: which artists happened to be audited) is in `summary.json`:

# %%
pd.Series(
    {
        "artists": numbers["accuracy"],
        "interval (bootstrap over artists)": f"[{numbers['accuracy_ci_low']:.1%}, {numbers['accuracy_ci_high']:.1%}]",
        "random names": numbers["accuracy_random_names"],
        "chance": numbers["chance_random_names"],
    }
)
