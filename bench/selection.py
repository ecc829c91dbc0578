"""Benchmark of the caption scanner behind :func:`helpers.metadata.count_mentions` (not a test).

Makes (once, cached under ``outputs/.cache/bench/``) a LAION-like parquet set of synthetic captions drawn
from a random vocabulary, with Zipf-distributed mentions of synthetic artist names, about 6% non-ASCII
captions, and prints:

* captions/s of the scanner over every caption with all the names;
* captions/s of a naive per-name pandas ``str.contains`` loop (word-boundary regex, case-insensitive) and
  of the scanner, both on the same subset of rows, and their ratio (goal: >= 50x);
* the scanner's time with 100 names and with all the names (goal: at most 2x slower).

Usage: ``.venv/bin/python bench/selection.py [--rows 5000000] [--names 5000] [--naive-rows 2000]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import resource
import time

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from helpers.metadata import count_mentions
from helpers.paths import CACHE_DIR

_VERSION = 2  # bump when the generator changes, so the cache is rebuilt
_FILES = 8
_SYLLABLES = (
    "ka ri to na mi su lo ve an el or in da ne sha ko ru tel mar gen bo li ta vi yo ze qu fa pe dor".split()
)
_ACCENTED = "é ü ø å ñ ł ç ö".split()
_CJK = "風景 城 森林 山 海 夢 花 猫".split()


def _words(rng: np.random.Generator, n: int, parts: tuple[int, int]) -> list[str]:
    out: set[str] = set()
    while len(out) < n:
        k = int(rng.integers(*parts))
        out.add("".join(rng.choice(_SYLLABLES, size=k)))
    return sorted(out)


def _make(folder, n_rows: int, n_names: int, seed: int) -> tuple[list[str], list[str]]:
    rng = np.random.default_rng(seed)
    vocab = _words(rng, 30_000, (2, 5))
    for i in rng.choice(len(vocab), size=len(vocab) // 200, replace=False):  # 0.5% of words accented
        w = vocab[i]
        j = int(rng.integers(len(w)))
        vocab[i] = w[:j] + str(rng.choice(_ACCENTED)) + w[j + 1 :]
    vocab += _CJK
    first, last = _words(rng, 2_000, (2, 4)), _words(rng, 20_000, (2, 5))
    names = list(
        dict.fromkeys(
            f"{a.title()} {b.title()}"
            for a, b in zip(rng.choice(first, 3 * n_names), rng.choice(last, 3 * n_names), strict=True)
        )
    )[:n_names]
    table_words = pa.array(vocab + names, type=pa.string())
    weights = 1.0 / (np.arange(n_names) + 20.0)
    weights /= weights.sum()
    folder.mkdir(parents=True, exist_ok=True)
    per_file = -(-n_rows // _FILES)
    for f in range(_FILES):
        n = min(per_file, n_rows - f * per_file)
        lengths = rng.integers(5, 21, size=n)
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
        idx = rng.integers(0, len(vocab), size=int(offsets[-1]))
        mention = np.flatnonzero(rng.random(n) < 0.03)
        idx[offsets[mention] + rng.integers(0, lengths[mention])] = len(vocab) + rng.choice(
            n_names, size=len(mention), p=weights
        )
        words = table_words.take(pa.array(idx))
        captions = pc.binary_join(pa.ListArray.from_arrays(pa.array(offsets), words), " ")
        shout = rng.random(n) < 0.1  # some captions in capitals
        captions = pc.if_else(pa.array(shout), pc.utf8_upper(captions), captions)
        table = pa.table(
            {
                "TEXT": captions,
                "URL": pc.binary_join_element_wise(
                    "http://127.0.0.1/", pa.array(np.arange(n) + f * per_file).cast(pa.string()), ""
                ),
                "AESTHETIC_SCORE": pa.array(rng.uniform(4.5, 8.0, size=n)),
            }
        )
        pq.write_table(table, folder / f"part-{f:02d}.parquet", row_group_size=250_000)
    (folder / "names.txt").write_text("\n".join(names), encoding="utf-8")
    return names


def _dataset(n_rows: int, n_names: int, seed: int):
    folder = CACHE_DIR / "bench" / f"selection-v{_VERSION}-{n_rows}-{n_names}-{seed}"
    if not (folder / "names.txt").is_file():
        t = time.perf_counter()
        _make(folder, n_rows, n_names, seed)
        print(f"generated {n_rows:,} captions in {time.perf_counter() - t:.1f} s -> {folder}")
    names = (folder / "names.txt").read_text(encoding="utf-8").split("\n")
    return folder, names


def _timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def _naive(captions: pd.Series, names: list[str]) -> np.ndarray:
    return np.array(
        [captions.str.contains(rf"\b{re.escape(n)}\b", case=False, regex=True).sum() for n in names]
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rows", type=int, default=5_000_000)
    p.add_argument("--names", type=int, default=5_000)
    p.add_argument("--few-names", type=int, default=100)
    p.add_argument("--naive-rows", type=int, default=2_000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None)
    args = p.parse_args()
    folder, names = _dataset(args.rows, args.names, args.seed)
    files = str(folder / "part-*.parquet")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.system()}, Python {platform.python_version()}"
    )
    print(f"data: {args.rows:,} captions in {_FILES} parquet files, {len(names):,} names")

    many, t_many = _timed(lambda: count_mentions(files, names, threads=args.threads, progress=False))
    scanned = many.attrs["captions_scanned"]
    assert scanned == args.rows, scanned
    few, t_few = _timed(
        lambda: count_mentions(files, names[: args.few_names], threads=args.threads, progress=False)
    )
    assert (few["caption_count"].to_numpy() == many["caption_count"].to_numpy()[: args.few_names]).all()
    print(f"scanner, {len(names):,} names: {t_many:.2f} s, {scanned / t_many:,.0f} captions/s")
    print(f"scanner, {args.few_names} names: {t_few:.2f} s, {scanned / t_few:,.0f} captions/s")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of this process after both scans: {peak:,.0f} MiB")
    print(f"names x{len(names) // args.few_names}: time x{t_many / t_few:.2f} (goal <= 2)")
    top = many.sort_values("caption_count", ascending=False)
    print(
        f"mentions: {int(many['caption_count'].sum()):,}; names with > 100 captions: {int((many['caption_count'] > 100).sum())}; "
        f"top: {top['artist'].iloc[0]} ({top['caption_count'].iloc[0]})"
    )

    subset = pq.read_table(folder / "part-00.parquet", columns=["TEXT"]).slice(0, args.naive_rows)
    subset_file = folder / "subsets" / f"{args.naive_rows}.parquet"
    subset_file.parent.mkdir(exist_ok=True)
    pq.write_table(subset, subset_file)
    sub, t_sub = _timed(lambda: count_mentions(subset_file, names, threads=args.threads, progress=False))
    naive, t_naive = _timed(lambda: _naive(subset.column("TEXT").to_pandas(), names))
    agree = int((naive == sub["caption_count"].to_numpy()).sum())
    print(f"subset of {args.naive_rows:,} captions, {len(names):,} names:")
    print(f"  naive pandas str.contains loop: {t_naive:.2f} s, {args.naive_rows / t_naive:,.0f} captions/s")
    print(f"  scanner (end to end, same rows): {t_sub:.3f} s, {args.naive_rows / t_sub:,.0f} captions/s")
    print(
        f"  speed-up: x{t_naive / t_sub:,.0f} (goal >= 50); counts agree for {agree:,}/{len(names):,} names"
    )
    print(f"  full-run scanner rate vs naive: x{(scanned / t_many) / (args.naive_rows / t_naive):,.0f}")


if __name__ == "__main__":
    main()
