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
# # Course 6 · When the test lies: deranged works, clusters, and a test with artists as units
#
# **Concept.** A test is only as good as its error rate, and an error rate is measured, not assumed. Give
# every artist *another* artist's real works: now no artist's imitations resemble "their" works, every null
# hypothesis is true, and any artist called significant is a false positive. The paper's rank-sum test
# (notebook 04) still calls many of them significant — because it counts the ten imitations of one prompt as
# ten independent observations, and they are not: they share the prompt and the style the model learnt for
# it, so they sit together as one **cluster**. If that cluster happens to lie near the wrong artist's works,
# all ten of its imitations do. The fix is to make the artists the units: compare the *pairing* of an
# artist's works with the artist's imitations against every *mismatched* pairing.

# %% tags=["parameters"]
params_file = "params/demo.yaml"

# %%
import numpy as np

from helpers import artist_level, encoding, schema, significance, validation  # noqa: F401 - for the exercises

params = schema.load(params_file)
emb = encoding.read_embeddings(params.paths)
imitations = emb.rows("imitation", "artists")
real = emb.rows("real")
artists = validation.read_validation(params.paths)["artist"].tolist()
real = real[real["name"].isin(artists)]
controls = validation.read_control_pvalues(params.paths)
print(f"{len(artists)} validated artists, {len(imitations)} imitations, {len(real)} real works")

# %% [markdown]
# ## Exercise 1 — derange the works
# `deranged`: for each real work (each row of `real`), the artist it is *given* to: a work of `artists[j]`
# goes to `artists[j - 1]`, so artist *j* holds the works of artist *j + 1* (the last artist holds the
# first's). Then run the paper's test on the deranged works with
# `significance.validation_table(real_vectors, deranged, imitation_vectors, imitation_names, artists)` and
# count `false_positives`: the artists it calls significant after Bonferroni.

# %% tags=["exercise:derange"]
real_vectors = emb.image_vectors[real.index]
imitation_vectors, imitation_names = emb.image_vectors[imitations.index], imitations["name"].to_numpy()
deranged = ...  # your code
table = ...  # your code
false_positives = ...  # your code

# %%
# check
assert deranged is not ... and table is not ... and false_positives is not ..., "write Exercise 1 in the cell above"
shift1 = controls[
    (controls["control"] == "deranged_works") & (controls["replicate"] == 1) & (controls["test"] == "paper_test")
]
assert np.allclose(table.set_index("artist").loc[shift1["artist"], "p_value"], shift1["p_value"]), (
    "artist j holds artist j+1's works: the work of artists[k] goes to artists[(k - 1) % len(artists)]"
)
assert false_positives == int(shift1["significant"].sum()), "count the rows of table whose 'significant' is True"
print(
    f"Exercise 1: right. The paper's test calls {false_positives} of {len(artists)} artists significant, "
    "though none of them holds their own works."
)

# %% [markdown]
# ## Exercise 2 — why: ten imitations, one cluster
# Take the first falsely significant artist (or the first artist). `cluster_means`: for each artist *b*, the
# mean of that artist's deranged scores s(i) over *b*'s imitations — one number per cluster of imitations
# (`scores` holds s(i) for every imitation, in the order of `imitations`). `rank`: how many clusters have a
# mean at least as high as the artist's own cluster (1 = the own cluster is the closest).

# %% tags=["exercise:clusters"]
chosen = next((a for a, s in zip(table["artist"], table["significant"], strict=True) if s), artists[0])
works = real_vectors[deranged == chosen]
scores = (imitation_vectors @ works.T).mean(axis=1)
cluster_means = ...  # your code: a dict artist -> mean score of that artist's imitations
rank = ...  # your code

# %%
# check
assert cluster_means is not ... and rank is not ..., "write Exercise 2 in the cell above"
expected = {b: scores[imitation_names == b].mean() for b in artists}
assert np.allclose([cluster_means[b] for b in artists], [expected[b] for b in artists]), (
    "the mean of s(i) over b's imitations"
)
assert rank == sum(v >= expected[chosen] for v in expected.values()), (
    "count the clusters at least as close as the own one"
)
p = table.set_index("artist").loc[chosen, "p_value"]
print(
    f"Exercise 2: right. {chosen}'s own cluster is number {rank} of {len(artists)} — by the artists as units, "
    f"a chance of about {rank}/{len(artists)} — yet counting its ten imitations as independent gives p = {p:.1g}."
)

# %% [markdown]
# ## Exercise 3 — the artist-level test on the same deranged works
# `level`: the artist-level test of the deranged works — `artist_level.artist_level_test(s)` with
# `s = significance.scores(real_vectors, deranged, imitation_vectors, imitation_names, artists)`;
# `level_false_positives`: how many artists it calls significant (column `significant_artist_level`).

# %% tags=["exercise:level"]
level = ...  # your code
level_false_positives = ...  # your code

# %%
# check
assert level is not ... and level_false_positives is not ..., "write Exercise 3 in the cell above"
mine = controls[
    (controls["control"] == "deranged_works") & (controls["replicate"] == 1) & (controls["test"] == "artist_level")
]
assert np.allclose(level.set_index("artist").loc[mine["artist"], "p_artist_level"], mine["p_value"]), (
    "score the deranged works"
)
assert level_false_positives == int(level["significant_artist_level"].sum()), "count significant_artist_level"
truth = validation.read_validation(params.paths)
print(
    f"Exercise 3: right. Artist-level test on deranged works: {level_false_positives} significant; on the true "
    f"works: {int(truth['significant_artist_level'].sum())} of {len(truth)}."
)

# %% [markdown]
# ## What it means
# The run repeats Exercise 1 for every shift of the works (`tables/negative_controls.csv`) and reports each
# test's false-positive rate beside its headline (`summary.json`, `report.html`, the calibration figure of
# `05_validation`). A test whose false-positive rate is far above α cannot carry a claim, however small its
# p-values. The artist-level test pays for honesty with a floor: its smallest p-value is 1/(1 + K(K − 1)),
# which is why it is corrected with Benjamini–Hochberg (or, from 21 artists on, Bonferroni).
