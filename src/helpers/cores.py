"""How many CPU cores this process may use — the one answer for every "all cores" setting
(``generation.cpu_threads: all``, the caption scanner's workers)."""

from __future__ import annotations

import os

__all__ = ["usable_cores"]


def usable_cores() -> int:
    """The cores this process may run on: its CPU affinity where the system reports one (a container or
    ``taskset`` may allow fewer than the machine has), else every core the machine has."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1
