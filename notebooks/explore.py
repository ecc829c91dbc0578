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
# # Explore one artist of a finished run
#
# The headline numbers average over artists. Here is one artist up close: the imitations the model made
# for them, with the artist CLIP named for each; the label prompts nearest to those imitations; the
# artist's real works; where the imitations stand in the validation test; and whom they are mistaken for.
# Run the five stages first (`make reproduce` or `make demo`); `make explore ARTIST="..."` runs this
# notebook headless, and in JupyterLab the dropdown at the end switches artists.

# %% tags=["parameters"]
params_file = "params/demo.yaml"
artist = None
config = None

# %% [markdown]
# **Parameters**
#
# - `params_file` — the params YAML of a finished run.
# - `artist` — the artist to look at (`None`: the most accurately imitated one).
# - `config` — for a sweep, the configuration to look at (`None`: the first).

# %%
from IPython.display import display

from helpers import explore, provenance, schema

params = schema.load(params_file)
provenance.print_caveats(params)
view = explore.artist_view(params, artist, config)
shown = explore.show(params, view)
shown["summary"]

# %% [markdown]
# ## The imitations, and whom the encoder named
# Each imitation with the artist it was attributed to and the similarity that decided it — zero-shot: the
# artist whose label prompt is most similar; by reference works (an image-only descriptor): the artist whose
# reference works are nearest. Green when that is the prompted artist, red otherwise.

# %%
shown["imitations"]

# %% [markdown]
# ## The nearest artists
# Every artist, by the mean similarity of this artist's imitations to them — their label prompt (zero-shot)
# or their reference works (by reference): how far ahead (or behind) the artist's own is.

# %%
display(view.nearest.head(8))

# %% [markdown]
# ## The artist's real works
# The works validation compares the imitations with.

# %%
shown.get("real_works", "no real works for this artist")

# %% [markdown]
# ## Own versus other imitations
# The similarity of the artist's real works to their own imitations and to every other artist's, with
# the one-sided rank-sum test's p-value.

# %%
shown.get("own_other", "not validated: too few real works")

# %% [markdown]
# ## Mistaken for
# When CLIP did not name this artist, whom it named instead.

# %%
display(view.confused_with)

# %% [markdown]
# ## Another artist
# In JupyterLab (with ipywidgets), pick another artist: the same views appear below.

# %%
explore.chooser(params, config, current=view.artist)
