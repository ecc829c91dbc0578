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
from helpers import encoding, generation, provenance, record, schema, selection

params = schema.load(params_file)
provenance.print_caveats(params)

# %% [markdown]
# ## Embed
# Stage 03 reads the names and real works of stage 01 and the images of stage 02.

# %%
names = selection.read_names(params.paths)
real_works = selection.read_real_works(params.paths)
manifests = generation.read_manifests(params)
standins = generation.read_standins(params.paths)
with record.stage(params, "03_encoding"):
    result = encoding.run_stage(params, names, manifests, real_works, standins)
emb = next(iter(result.embeddings.values()))
print(f"{len(emb.images)} images and {len(emb.labels)} label prompts, dimension {emb.image_vectors.shape[1]}")
emb.images.groupby(["kind", "group"]).size().rename("images")

# %% [markdown]
# ## A first look at the space
# Before any number: does the encoder see the artists apart at all?

# %%
result.figures["embedding_map"]
