"""Command line of the toy world.

    python -m helpers.toyworld corpus [--out data/toy_world] [--seed 0] [--force]
    python -m helpers.toyworld train --seed 0 [--threads 2] [--out models/toy-world] [--corpus data/toy_world]
    python -m helpers.toyworld verify [--models models/toy-world] [--corpus data/toy_world]
    python -m helpers.toyworld artists [--out params/toy_artists.csv]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import AuditError, exit_on_error
from ..paths import PROJECT_ROOT


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m helpers.toyworld", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("corpus", help="build the corpus (captions, training images, real works)")
    c.add_argument("--out", type=Path, default=None, help="corpus folder (default data/toy_world)")
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--force", action="store_true", help="rebuild even if a corpus of this recipe and seed is there")
    t = sub.add_parser("train", help="build the corpus if missing, train every model, write weights and manifest")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--threads", type=int, default=2, help="torch intra-op threads (recorded; results depend on it)")
    t.add_argument("--out", type=Path, default=None, help="models folder (default models/toy-world)")
    t.add_argument("--corpus", type=Path, default=None, help="corpus folder (default data/toy_world)")
    v = sub.add_parser("verify", help="check the shipped weights against the manifest and the corpus digest")
    v.add_argument("--models", type=Path, default=None)
    v.add_argument("--corpus", type=Path, default=None)
    a = sub.add_parser("artists", help="write the toy artists as a candidates CSV for stage 01")
    a.add_argument("--out", type=Path, default=PROJECT_ROOT / "params" / "toy_artists.csv")
    return p


@exit_on_error
def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    from .corpus import DEFAULT_DIR, build_corpus, corpus_digest, ensure_corpus
    from .manifest import MODELS_DIR, read_manifest, verify_files

    if args.command == "corpus":
        out = args.out or DEFAULT_DIR
        record = build_corpus(out, seed=args.seed) if args.force else ensure_corpus(out, seed=args.seed)
        print(f"corpus in {out}: {record['n_captions']} captions, digest {record['digest']}")
    elif args.command == "train":
        from .train import train_world

        train_world(seed=args.seed, threads=args.threads, out=args.out or MODELS_DIR, corpus_dir=args.corpus or DEFAULT_DIR)
    elif args.command == "verify":
        models, corpus = args.models or MODELS_DIR, args.corpus or DEFAULT_DIR
        problems = verify_files(models)
        expected = read_manifest(models)["corpus"]["digest"]
        ensure_corpus(corpus, seed=read_manifest(models)["seed"])
        if corpus_digest(corpus) != expected:
            problems.append(f"corpus {corpus}: digest differs from the one the weights were trained on")
        if problems:
            raise AuditError("; ".join(problems), where=str(models), fix="retrain with the manifest's command")
        print(f"{models}: every file matches its manifest; the corpus digest matches")
    else:
        from .artists import candidates_csv

        args.out.write_text(candidates_csv(), encoding="utf-8")
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main(sys.argv[1:])
