"""Which images a generation setting makes, and each image's seed.

Each image's seed comes from the generation seed, the name, the template and the image index
(:func:`image_seed`), so any single image can be remade exactly; jobs come in a fixed order (group, name,
index), so a resumed or sharded run feeds the pipeline exactly the batches an uninterrupted run would.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from ..files import Columns, sha256_bytes
from ..names import slug
from ..schema import render_prompt

__all__ = ["NAMESPACES", "image_seed", "Job", "plan", "MANIFEST_COLUMNS", "STANDIN_COLUMNS"]

MANIFEST_COLUMNS = Columns(
    name="text", group="text", template="text", prompt="text", index="int", seed="text", path="text", sha256="text"
)
"""The columns of a manifest of imitations (``images/manifest.csv``); a folder generator adds its own. The
seed is an identifier (up to 2**63, empty for images made elsewhere): text, never rounded through a float."""
STANDIN_COLUMNS = Columns(artist="text", path="text", sha256="text", source="text", rank="int")

NAMESPACES = {"imitation": 0, "standin": 1}
"""Seed namespaces: the namespace sets bit 62 of the seed, so the two sets of seeds never meet."""


def image_seed(run_seed: int, namespace: str, group: str, name: str, template: str, index: int) -> int:
    """The seed of one image: 62 bits of SHA-256 of the canonical JSON of the inputs, with the namespace
    in bit 62 (so seeds of different namespaces are disjoint by construction). Always < 2**63."""
    if namespace not in NAMESPACES:
        raise ValueError(f"unknown seed namespace {namespace!r}; use one of {sorted(NAMESPACES)}")
    payload = json.dumps(
        {
            "run_seed": int(run_seed),
            "namespace": namespace,
            "group": group,
            "name": name,
            "template": template,
            "index": int(index),
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    low = int(sha256_bytes(payload.encode("utf-8"))[:16], 16) & ((1 << 62) - 1)
    return (NAMESPACES[namespace] << 62) | low


@dataclass(frozen=True)
class Job:
    """One image to make. ``path`` is relative to the run folder (POSIX separators)."""

    group: str
    name: str
    template: str
    prompt: str
    index: int
    seed: int
    path: str


def plan(
    names: dict[str, list[str]],
    *,
    template: str,
    seed: int,
    count: int,
    path: Callable[[str, str, int], str],
    namespace: str = "imitation",
) -> list[Job]:
    """Every image of ``names`` (group → names), ``count`` per name, in a fixed order: group, name, index.

    ``path(group, slug(name), index)`` gives each image's run-relative path (from :mod:`helpers.paths`);
    ``seed`` is the generation seed the image seeds derive from."""
    jobs: list[Job] = []
    for group, members in names.items():
        for name in members:
            for index in range(count):
                jobs.append(
                    Job(
                        group=group,
                        name=name,
                        template=template,
                        prompt=render_prompt(template, name),
                        index=index,
                        seed=image_seed(seed, namespace, group, name, template, index),
                        path=path(group, slug(name), index),
                    )
                )
    return jobs
