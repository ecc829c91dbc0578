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
# # 03 · Encoding — put images and names in one space
#
# CLIP maps images and text into the same embedding space, where the cosine similarity of an image and
# a caption measures how well they match. We embed every generated image, every real work, and one
# label prompt per name (`classification.label_template`, by default the generation prompt itself).
# Embeddings are L2-normalised and cached by content (model, pretrained tag, and the image bytes or the
# text), so rerunning a stage or a sweep never recomputes them.

# %% tags=["parameters"]
params_file = "params/smoke.yaml"

# %% [markdown]
# **Parameters**
#
# - `params_file` — the run's params YAML; this stage reads `encoding` (the open_clip model and
#   pretrained tag, batch size, workers, precision) and `classification.label_template`.

# %%
from helpers import encoding, plots, report, run
from helpers import params as P
from helpers.classification import read_embeddings

cfg = P.load(params_file)
report.print_caveats(cfg)

# %%
with run.stage(cfg, "03_encoding"):
    encoding.run_stage(cfg)
emb = read_embeddings(cfg.paths.embeddings)
print(f"{len(emb.images)} images and {len(emb.labels)} label prompts, dimension {emb.image_vectors.shape[1]}")
emb.images.groupby(["kind", "group"]).size().rename("images")

# %% [markdown]
# ## A first look at the space
# The first two principal components of the imitations' embeddings, one colour per artist. If the
# model imitates styles, images of one artist cluster.

# %%
fig = plots.embedding_map(emb.image_vectors[emb.rows("imitation", "artists").index],
                          emb.rows("imitation", "artists")["name"].tolist(),
                          title=f"{cfg.run}: imitations, first two principal components", weights=cfg.weights)
plots.save(fig, cfg.paths.figures / "embedding_map.png")
fig
