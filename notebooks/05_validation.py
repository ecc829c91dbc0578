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

from helpers import params as P
from helpers import plots, report, run, validation

cfg = P.load(params_file)
report.print_caveats(cfg)

# %%
with run.stage(cfg, "05_validation"):
    table, long, excluded = validation.run_stage(cfg)
    summary = report.write_summary(cfg, validation.numbers(cfg, table, excluded))
print(f"significant after {cfg.validation.correction} correction: "
      f"{summary['fraction_significant']:.0%} of {summary['n_validated']} artists "
      f"(paper: {report.PAPER['fraction_significant']:.0%}); {summary['n_excluded_validation']} excluded")
display(table)

# %% [markdown]
# ## Own versus other imitations
# For each artist, the scores of their own imitations against those of everyone else's.

# %%
note = report.STANDIN_NOTE if cfg.validation.standin else None
fig = plots.own_other_distributions(long, title=f"{cfg.run}: real works vs imitations", weights=cfg.weights, note=note)
plots.save(fig, cfg.paths.figures / "own_vs_other.png")
fig

# %% [markdown]
# ## p-values against the corrected threshold

# %%
fig = plots.sorted_pvalues(table, alpha=cfg.validation.alpha, correction=cfg.validation.correction,
                           title=f"{cfg.run}: validation p-values", weights=cfg.weights, note=note)
plots.save(fig, cfg.paths.figures / "pvalues.png")
fig

# %% [markdown]
# ## Artists not validated
# Artists without enough real works are listed, never dropped silently.

# %%
display(excluded)
summary
