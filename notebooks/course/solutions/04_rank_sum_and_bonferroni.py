# %% tags=["solution:scores"]
R = emb.image_vectors[real[real["name"] == artist].index]
M = emb.image_vectors[imitations.index]
scores = (R @ M.T).mean(axis=0)
own = (imitations["name"] == artist).to_numpy()

# %% tags=["solution:u"]
x, y = scores[own], scores[~own]
U = (x[:, None] > y[None, :]).sum() + 0.5 * (x[:, None] == y[None, :]).sum()
p = sps.mannwhitneyu(x, y, alternative="greater").pvalue

# %% tags=["solution:bonferroni"]
adjusted = np.minimum(1, len(table) * table["p_paper_test"].to_numpy())
fraction = float(np.mean(adjusted <= 0.05))
