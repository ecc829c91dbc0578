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
# # Course 1 · CLIP embeddings and zero-shot classification, by hand
#
# **Concept.** CLIP maps an image and a text into the same space of vectors (an *embedding*). The
# embeddings of the pipeline are scaled to length 1, so the cosine similarity of two of them — how well an
# image and a caption match — is simply their dot product: cos(u, v) = u·v / (‖u‖‖v‖) = u·v. *Zero-shot
# classification* names an image without any training on the names: embed one label prompt per name
# ("Artwork from <artist>") and pick the label most similar to the image. The audit does exactly this
# with every imitation; here you do it by hand on the toy world's held-out *real* works.
#
# Everything runs on the toy world (fictional artists, models trained on a CPU): run `make demo` first.

# %% tags=["parameters"]
params_file = "params/demo.yaml"

# %%
import numpy as np

from helpers import encoding, plots, provenance, schema, stats

params = schema.load(params_file)
emb = encoding.read_embeddings(params.paths)
labels = emb.label_rows("artists")
real = emb.rows("real")
# four artists with real works, three works each
artists = list(dict.fromkeys(real["name"]))[:4]
picked = real[real["name"].isin(artists)].groupby("name", sort=False).head(3)
X = emb.image_vectors[picked.index]  # images, one row each
L = emb.label_vectors[labels[labels["name"].isin(artists)].index]  # label prompts, one row per artist
truth = np.array([artists.index(n) for n in picked["name"]])  # the index of each image's artist in `artists`
print(f"{len(X)} real works of {artists}; vectors of dimension {X.shape[1]}")
plots.inline(
    plots.captioned_grid(
        [(params.paths.in_run(p), n, None) for p, n in zip(picked["path"], picked["name"], strict=True)],
        columns=6,
        title="the real works you will classify",
        weights=provenance.weights(params),
    )
)

# %% [markdown]
# ## Exercise 1 — the similarity matrix
# Compute `similarity`, the cosine similarity of every image (rows of `X`) with every label prompt (rows
# of `L`): a matrix with one row per image and one column per artist. The rows are already unit length.

# %% tags=["exercise:similarity"]
similarity = ...  # your code: one line of numpy

# %%
# check
assert similarity is not ..., "write Exercise 1 in the cell above"
assert np.shape(similarity) == (len(X), len(L)), (
    f"one row per image and one column per label: got {np.shape(similarity)}"
)
assert np.allclose(np.linalg.norm(X, axis=1), 1), "the embeddings are unit vectors"
assert np.allclose(similarity, stats.cosine_similarity(X, L), atol=1e-5), "not the cosine: is it X times L transposed?"
print("Exercise 1: right.")

# %% [markdown]
# ## Exercise 2 — zero-shot classification
# For each image, `predicted` is the index (in `artists`) of its most similar label; `accuracy` is the share
# of images whose prediction is their true artist (`truth`).

# %% tags=["exercise:classify"]
predicted = ...  # your code: the best column of each row
accuracy = ...  # your code: the share of predictions equal to the truth

# %%
# check
assert predicted is not ... and accuracy is not ..., "write Exercise 2 in the cell above"
best, _ = stats.top_k(X, L, k=1)
assert np.array_equal(np.asarray(predicted), best[:, 0]), (
    "predicted should be the index of the largest similarity per row (argmax over axis 1)"
)
assert np.isclose(accuracy, np.mean(best[:, 0] == truth)), "accuracy: the mean of (predicted == truth)"
print(
    f"Exercise 2: right. CLIP names the artist of {accuracy:.0%} of these real works (chance: {1 / len(artists):.0%})."
)

# %% [markdown]
# ## What it means
# This is the *ceiling* of the audit: how well the same CLIP names artists from their genuine work. Stage 04
# does the same for the imitations; imitations named as often as the real works are as recognisable as the
# originals. `tables/ceiling.csv` of the run holds it for every artist.
