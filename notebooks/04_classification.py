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
import pandas as pd
from IPython.display import display

from helpers import classification, plots, report, run
from helpers import params as P

cfg = P.load(params_file)
report.print_caveats(cfg)

# %%
with run.stage(cfg, "04_classification"):
    res = classification.run_stage(cfg)
a, r = res.numbers["artists"], res.numbers["random_names"]
display(pd.DataFrame({
    "this run": [a["accuracy"], r["accuracy"], a["chance"]],
    "paper": [report.PAPER["accuracy"], report.PAPER["accuracy_random_names"], report.PAPER["chance"]],
}, index=["mean top-1 accuracy, artists", "mean top-1 accuracy, random names", "chance 1/K"]).style.format("{:.1%}"))
print(f"artists: {a['accuracy']:.1%} [{a['accuracy_ci_low']:.1%}, {a['accuracy_ci_high']:.1%}], "
      f"permutation p = {a['permutation_p']:.3g}")

# %% [markdown]
# ## Accuracy per artist
# Bars are per-artist top-1 accuracy with their intervals; the lines mark chance and the random-names
# accuracy.

# %%
art = res.accuracy[res.accuracy["group"] == "artists"]
fig = plots.accuracy_bars(art, chance=a["chance"], random_names=r["accuracy"],
                          title=f"{cfg.run}: top-1 accuracy per artist", weights=cfg.weights)
plots.save(fig, cfg.paths.figures / "accuracy_per_artist.png")
fig

# %% [markdown]
# ## Who is mistaken for whom
# Rows are the prompted artist, columns the predicted one, ordered by accuracy.

# %%
fig = plots.confusion_heatmap(res.confusion, res.artist_names, title=f"{cfg.run}: confusion matrix",
                              weights=cfg.weights)
plots.save(fig, cfg.paths.figures / "confusion.png")
fig

# %% [markdown]
# ## How many images per artist are enough?
# Mean accuracy when only *n* images per artist are used (seeded subsamples).

# %%
fig = plots.sample_size_curve(res.curve, chance=a["chance"], title=f"{cfg.run}: accuracy vs images per artist",
                              weights=cfg.weights)
plots.save(fig, cfg.paths.figures / "sample_size.png")
fig
