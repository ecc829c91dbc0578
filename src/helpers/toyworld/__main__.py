"""Command line of the toy worlds (``--world``: ``toy``, the easy one, by default; or ``hard``).

python -m helpers.toyworld corpus [--world toy] [--out DIR] [--seed 0] [--force]
python -m helpers.toyworld train [--world toy] --seed 0 [--threads 2] [--out DIR] [--corpus DIR]
python -m helpers.toyworld verify [--world toy] [--models DIR] [--corpus DIR]
python -m helpers.toyworld artists [--world toy] [--out CSV]
python -m helpers.toyworld for-params PARAMS.yaml    # build the corpus of every world the params read
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import AuditError, exit_on_error


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m helpers.toyworld", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("corpus", help="build the corpus (captions, training images, real works)")
    c.add_argument("--out", type=Path, default=None, help="corpus folder (default the world's corpus_dir)")
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--force", action="store_true", help="rebuild even if a corpus of this recipe and seed is there")
    t = sub.add_parser("train", help="build the corpus if missing, train every model, write weights and manifest")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--threads", type=int, default=2, help="torch intra-op threads (recorded; results depend on it)")
    t.add_argument("--out", type=Path, default=None, help="models folder (default the world's models_dir)")
    t.add_argument("--corpus", type=Path, default=None, help="corpus folder (default the world's corpus_dir)")
    v = sub.add_parser("verify", help="check the shipped weights against the manifest and the corpus digest")
    v.add_argument("--models", type=Path, default=None)
    v.add_argument("--corpus", type=Path, default=None)
    a = sub.add_parser("artists", help="write the world's artists as a candidates CSV for stage 01")
    a.add_argument("--out", type=Path, default=None, help="default the world's artists_csv")
    f = sub.add_parser("for-params", help="build (if missing) the corpus of each world whose folder the params read")
    f.add_argument("params", type=Path)
    for parser in (c, t, v, a):
        parser.add_argument("--world", default="toy", help="the world file (worlds/<name>.yaml): toy or hard")
    return p


def _for_params(path: Path) -> None:
    from .. import schema
    from ..paths import resolve_path
    from .corpus import ensure_corpus
    from .world import load_world, world_names

    # validated as the runner validates them (the same one-line errors), files not yet checked: they may be ours
    paths = _paths(schema.load(path, check_files=False).model_dump())
    for name in world_names():
        world = load_world(name)
        folder = world.path("corpus_dir")
        if any(resolve_path(p).is_relative_to(folder) for p in paths):
            record = ensure_corpus(folder, world=world)
            print(f"world {name}: corpus in {folder}, digest {record['digest'][:12]}")


def _paths(node) -> list[str]:
    """Every string value of the params (the folders and files they name among them)."""
    if isinstance(node, dict):
        return [p for value in node.values() for p in _paths(value)]
    if isinstance(node, list):
        return [p for value in node for p in _paths(value)]
    return [node] if isinstance(node, str) else []


@exit_on_error
def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    from .corpus import build_corpus, corpus_digest, ensure_corpus
    from .manifest import read_manifest, verify_files
    from .world import load_world

    if args.command == "for-params":
        _for_params(args.params)
        return
    world = load_world(args.world)
    if args.command == "corpus":
        out = args.out or world.path("corpus_dir")
        build = build_corpus if args.force else ensure_corpus
        record = build(out, seed=args.seed, world=world)
        print(f"corpus of world {world.name} in {out}: {record['n_captions']} captions, digest {record['digest']}")
    elif args.command == "train":
        from .train import train_world

        train_world(world=world, seed=args.seed, threads=args.threads, out=args.out, corpus_dir=args.corpus)
    elif args.command == "verify":
        models, corpus = args.models or world.path("models_dir"), args.corpus or world.path("corpus_dir")
        problems = verify_files(models)
        expected = read_manifest(models)["corpus"]["digest"]
        ensure_corpus(corpus, seed=read_manifest(models)["seed"], world=world)
        if corpus_digest(corpus, world) != expected:
            problems.append(f"corpus {corpus}: digest differs from the one the weights were trained on")
        if problems:
            raise AuditError("; ".join(problems), where=str(models), fix="retrain with the manifest's command")
        print(f"{models}: every file matches its manifest; the corpus digest matches")
    else:
        from .artists import candidates_csv

        out = args.out or world.path("artists_csv")
        out.write_text(candidates_csv(world), encoding="utf-8")
        print(f"wrote {out}")


if __name__ == "__main__":
    main(sys.argv[1:])
