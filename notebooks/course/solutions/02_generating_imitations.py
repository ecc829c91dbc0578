# %% tags=["solution:seed"]
prompt = config.template.replace("{artist}", artist)
seed = generation.image_seed(config.seed, "imitation", "artists", artist, config.template, 3)

# %% tags=["solution:remake"]
remade = pipe(
    prompt=prompt,
    generator=torch.Generator("cpu").manual_seed(seed),
    num_inference_steps=call["steps"],
    guidance_scale=call["guidance_scale"],
    height=call["height"],
    width=call["width"],
).images[0]

# %% tags=["solution:other"]
other = pipe(
    prompt=prompt,
    generator=torch.Generator("cpu").manual_seed(seed + 1),
    num_inference_steps=call["steps"],
    guidance_scale=call["guidance_scale"],
    height=call["height"],
    width=call["width"],
).images[0]
