"""``python -m helpers.generation --params FILE`` — stage 02 without the notebook, also under
``accelerate launch -m helpers.generation``. An entry point: it composes stage 01's reader with stage 02."""

from __future__ import annotations

import argparse
import sys

from .. import schema, selection
from ..errors import exit_on_error
from .stage import run_stage


@exit_on_error
def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        prog="python -m helpers.generation", description="Generate the imitations of a run (stage 02)."
    )
    ap.add_argument("--params", required=True, help="params YAML, e.g. params/smoke.yaml")
    ap.add_argument("--no-progress", action="store_true", help="no progress bar")
    ns = ap.parse_args(argv)
    params = schema.load(ns.params)
    run_stage(params, selection.read_names(params.paths), progress=not ns.no_progress)


if __name__ == "__main__":
    main(sys.argv[1:])
