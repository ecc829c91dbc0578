# %% tags=["solution:derange"]
real_vectors = emb.image_vectors[real.index]
imitation_vectors, imitation_names = emb.image_vectors[imitations.index], imitations["name"].to_numpy()
position = {a: k for k, a in enumerate(artists)}
deranged = np.array([artists[(position[a] - 1) % len(artists)] for a in real["name"]])
table = significance.validation_table(real_vectors, deranged, imitation_vectors, imitation_names, artists)
false_positives = int(table["significant"].sum())

# %% tags=["solution:clusters"]
chosen = next((a for a, s in zip(table["artist"], table["significant"], strict=True) if s), artists[0])
works = real_vectors[deranged == chosen]
scores = (imitation_vectors @ works.T).mean(axis=1)
cluster_means = {b: scores[imitation_names == b].mean() for b in artists}
rank = sum(v >= cluster_means[chosen] for v in cluster_means.values())

# %% tags=["solution:level"]
level = artist_level.artist_level_test(
    significance.scores(real_vectors, deranged, imitation_vectors, imitation_names, artists)
)
level_false_positives = int(level["significant_artist_level"].sum())
