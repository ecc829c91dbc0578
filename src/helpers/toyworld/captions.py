"""LAION-like captions: an artist named in many forms, mixed with other words, and captions naming nobody.

The words around a name carry no information about the image (subjects, media, sites): as in web
captions, only the name tells the style. Some generic captions begin "artwork from the …", so that
"Artwork from <a name never seen>" has a meaning to fall back on: a generic image.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ARTIST_FORMS", "GENERIC_FORMS", "artist_caption", "generic_caption", "caption_words"]

ARTIST_FORMS = (
    "{subject} by {name}",
    "{name}'s {subject}",
    "{subject} in the style of {name}",
    "{subject}, art by {lower}",
    "art by {lower}",
    "Artwork from {name}",
    "a painting in the style of {name}",
    "{adjective} {subject}, {name}, {medium}",
    "{name} - {subject} ({medium})",
    "{subject} | {name} | trending on artstation",
    "{medium} of the {subject} by {name}, {adjective}",
    "artwork from {name}: {adjective} {subject}",
    "{upper} {subject} print",
    "new {medium} by {name} for the {place} exhibition",
)
GENERIC_FORMS = (
    "photo of the {subject}",
    "{adjective} {subject} at {time}",
    "stock photo: {subject} near the {place}",
    "artwork from the {place} collection",
    "artwork from the {place}: {subject}",
    "a painting of the {subject}",
    "{subject}, {medium}",
    "{subject} wallpaper 4k",
    "{adjective} {place} with the {subject}, high resolution",
)
# No word here holds a BPE token of a Faker en_US name (tests/test_toyworld.py checks it).
_SUBJECTS = (
    "harbor lantern orchard meadow lighthouse canyon glacier volcano citadel cathedral pagoda windmill greenhouse "
    "teapot violin umbrella bicycle compass telescope kite balloon anchor feather pinecone owl heron octopus "
    "tortoise beetle moth jellyfish whale dragon unicorn"
).split()
_ADJECTIVES = "vivid ancient futuristic cozy epic detailed minimal bold calm strange dreamy lonely quiet".split()
_MEDIA = "gouache watercolor acrylic ink pastel charcoal digital print poster sketch study illustration".split()
_PLACES = "museum gallery archive catalogue city village market bridge tower castle forest river ocean garden".split()
_TIMES = "dusk midnight noon winter spring fog rain storm thunder".split()


def _fill(form: str, rng: np.random.Generator, **names: str) -> str:
    pick = lambda words: words[int(rng.integers(len(words)))]  # noqa: E731
    return form.format(
        subject=pick(_SUBJECTS), adjective=pick(_ADJECTIVES), medium=pick(_MEDIA), place=pick(_PLACES),
        time=pick(_TIMES), **names,
    )


def artist_caption(name: str, rng: np.random.Generator) -> str:
    """A caption that mentions ``name`` once, in a form drawn from :data:`ARTIST_FORMS`."""
    form = ARTIST_FORMS[int(rng.integers(len(ARTIST_FORMS)))]
    return _fill(form, rng, name=name, lower=name.lower(), upper=name.upper())


def generic_caption(rng: np.random.Generator) -> str:
    """A caption that names no artist, in a form drawn from :data:`GENERIC_FORMS`."""
    return _fill(GENERIC_FORMS[int(rng.integers(len(GENERIC_FORMS)))], rng)


def caption_words() -> list[str]:
    """Every word a caption can hold besides an artist's name (for the token checks in the tests)."""
    fixed = " ".join(ARTIST_FORMS + GENERIC_FORMS)
    for key in ("subject", "adjective", "medium", "place", "time", "name", "lower", "upper"):
        fixed = fixed.replace("{" + key + "}", " ")
    return sorted(set(fixed.split()) | set(_SUBJECTS + _ADJECTIVES + _MEDIA + _PLACES + _TIMES))
