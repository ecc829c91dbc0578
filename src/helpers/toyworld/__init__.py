"""The toy worlds: miniatures of the audit where style imitation really happens and the truth is known.

A world is data (``worlds/<name>.yaml``, validated by :mod:`.world`): ``toy``, the easy world described
below, and ``hard`` (confusable families, unseen and impostor artists; ``docs/TOY_WORLDS.md``). The easy world:
thirty-six fictional artists, each with a procedural style (:mod:`.artists`, :mod:`.styles`); a LAION-like
corpus of captions naming them 10 to 500 times, with generic captions and held-out "real works"
(:mod:`.captions`, :mod:`.corpus`); and two kinds of small models trained here on a CPU from that corpus —
a text-to-image Stable Diffusion pipeline and CLIP encoders (:mod:`.train_vae`, :mod:`.train_generator`,
:mod:`.train_clip`, :mod:`.train`) — saved in the layouts users use for real models, so that the pipeline
loads them with ``source: local`` and no toy-specific code::

    python -m helpers.toyworld corpus            # data/toy_world/ (seconds)
    python -m helpers.toyworld train --seed 0    # models/toy-world/ + MANIFEST.json (about 25 minutes, 2 cores)
    python -m helpers.toyworld verify            # shipped weights and corpus match the manifest
    python -m helpers.runner --params params/demo.yaml

Known answer: artists captioned more than 100 times are imitated recognisably; rarely captioned artists
less; names the models never saw (the random-names baseline) not at all.
"""

from .artists import ARTISTS, artist_names
from .corpus import DEFAULT_DIR, build_corpus, corpus_digest, ensure_corpus
from .manifest import MODELS_DIR, read_manifest, verify_files
from .world import World, load_world, world_names

__all__ = [
    "ARTISTS",
    "artist_names",
    "DEFAULT_DIR",
    "MODELS_DIR",
    "build_corpus",
    "ensure_corpus",
    "corpus_digest",
    "read_manifest",
    "verify_files",
    "World",
    "load_world",
    "world_names",
]
