# %% tags=["solution:accuracy"]
per_artist = artists.groupby("name")["correct"].mean()
mean_accuracy = per_artist.mean()

# %% tags=["solution:wilson"]
first = table[table["group"] == "artists"].iloc[0]
c, n = int(first["n_correct"]), int(first["n_images"])
z, p = sps.norm.ppf(0.975), c / n
centre, half = p + z**2 / (2 * n), z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
low, high = (centre - half) / (1 + z**2 / n), (centre + half) / (1 + z**2 / n)

# %% tags=["solution:baseline"]
baseline = randoms.groupby("name")["correct"].mean().mean()
chance = 1 / randoms["name"].nunique()
