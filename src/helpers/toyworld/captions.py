"""LAION-like captions: an artist named in many forms, mixed with other words, and captions naming nobody.

The words around a name carry no information about the image (subjects, media, sites): as in web
captions, only the name tells the style. Some generic captions begin "artwork from the …", so that
"Artwork from <a name never seen>" has a meaning to fall back on: a generic image.
"""

from __future__ import annotations

import numpy as np

from .world import load_world, world_names

__all__ = ["ARTIST_FORMS", "GENERIC_FORMS", "artist_caption", "generic_caption", "caption_words"]

ARTIST_FORMS: tuple[str, ...] = tuple(load_world("toy").artist_forms)
GENERIC_FORMS: tuple[str, ...] = tuple(load_world("toy").generic_forms)
"""The easy world's caption forms (``worlds/toy.yaml``); every world lists its own."""
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
        subject=pick(_SUBJECTS),
        adjective=pick(_ADJECTIVES),
        medium=pick(_MEDIA),
        place=pick(_PLACES),
        time=pick(_TIMES),
        **names,
    )


def artist_caption(name: str, rng: np.random.Generator, forms: tuple[str, ...] | list[str] = ARTIST_FORMS) -> str:
    """A caption that mentions ``name`` once, in a form drawn from ``forms`` (default :data:`ARTIST_FORMS`)."""
    form = forms[int(rng.integers(len(forms)))]
    return _fill(form, rng, name=name, lower=name.lower(), upper=name.upper())


def generic_caption(rng: np.random.Generator, forms: tuple[str, ...] | list[str] = GENERIC_FORMS) -> str:
    """A caption that names no artist, in a form drawn from ``forms`` (default :data:`GENERIC_FORMS`)."""
    return _fill(forms[int(rng.integers(len(forms)))], rng)


def caption_words() -> list[str]:
    """Every word a caption of any world can hold besides an artist's name (for the token checks in the tests)."""
    worlds = [load_world(name) for name in world_names()]
    fixed = " ".join(form for w in worlds for form in (*w.artist_forms, *w.generic_forms))
    for key in ("subject", "adjective", "medium", "place", "time", "name", "lower", "upper"):
        fixed = fixed.replace("{" + key + "}", " ")
    return sorted(set(fixed.split()) | set(_SUBJECTS + _ADJECTIVES + _MEDIA + _PLACES + _TIMES))
