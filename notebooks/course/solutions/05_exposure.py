# %% tags=["solution:spearman"]
rho = np.corrcoef(data["captions"].rank(), data["accuracy"].rank())[0, 1]

# %% tags=["solution:threshold"]
selected = data.loc[data["captions"] > 100, "accuracy"].mean()
excluded = data.loc[data["captions"] <= 100, "accuracy"].mean()
