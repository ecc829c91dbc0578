"""Benchmark of the caption scanner behind :func:`helpers.metadata.count_mentions` (not a test).

Makes (once, cached under ``outputs/.cache/bench/``) LAION-like parquet sets of synthetic captions drawn
from a random vocabulary, with Zipf-distributed mentions of synthetic artist names, in two variants:
*default* (about 6% non-ASCII captions) and *intl* (mostly non-ASCII: accented words, curly quotes and
apostrophes, CJK words; accented names). For each variant, in one run and on the same files, it times
DuckDB reading the caption column alone (``sum(strlen(caption))``, all cores: the *read limit*) and the
scanner with 1 worker and with every core, repeats interleaved, minimum kept, and prints

* the scanner's time as a multiple of the read time (goal: <= 2.5x with every core), and the speed-up from
  1 worker to every core (goal: in proportion to the cores);
* for the default variant also: the scanner's time with 100 names and with all the names (goal: at most
  2x slower), and a naive per-name pandas ``str.contains`` loop against the scanner on the same subset of
  rows (goal: >= 50x).

Usage: ``.venv/bin/python bench/selection.py [--rows 5000000] [--names 5000] [--variants default,intl]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import resource
import time
from pathlib import Path

import duckdb
import hyperscan
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from helpers.cores import usable_cores
from helpers.metadata import count_mentions
from helpers.paths import CACHE_DIR

_VERSION = {"default": 2, "intl": 1}  # bump when the generator changes, so the cache is rebuilt
_FILES = 8
_SYLLABLES = "ka ri to na mi su lo ve an el or in da ne sha ko ru tel mar gen bo li ta vi yo ze qu fa pe dor".split()
_ACCENTED = "é ü ø å ñ ł ç ö".split()
_CJK = "風景 城 森林 山 海 夢 花 猫".split()
_INTL_ACCENTED = "é è ê à á â ä ö ü ñ ç ø å í ó ú ß ł".split()
_INTL_CJK = list("風景城森林山海夢花猫絵画人物写真美術館の的和少女")


def _words(rng: np.random.Generator, n: int, parts: tuple[int, int]) -> list[str]:
    out: set[str] = set()
    while len(out) < n:
        k = int(rng.integers(*parts))
        out.add("".join(rng.choice(_SYLLABLES, size=k)))
    return sorted(out)


def _accent(rng: np.random.Generator, words: list[str], share: float, letters: list[str]) -> None:
    """One letter of ``share`` of the words replaced by an accented one, in place."""
    for i in rng.choice(len(words), size=int(len(words) * share), replace=False):
        w = words[i]
        j = int(rng.integers(len(w)))
        words[i] = w[:j] + str(rng.choice(letters)) + w[j + 1 :]


def _make(folder, n_rows: int, n_names: int, seed: int, intl: bool) -> list[str]:
    rng = np.random.default_rng(seed)
    vocab = _words(rng, 30_000, (2, 5))
    if intl:  # 10% of words accented, curly-quoted and apostrophe forms, CJK words: ~90% non-ASCII captions
        _accent(rng, vocab, 0.10, _INTL_ACCENTED)
        quoted = rng.choice(vocab, 2_000, replace=False)
        vocab += [f"\u201c{w}\u201d" for w in quoted[:1_000]] + [f"{w}\u2019s" for w in quoted[1_000:]]
        vocab += ["".join(rng.choice(_INTL_CJK, size=int(rng.integers(1, 4)))) for _ in range(800)]
    else:
        _accent(rng, vocab, 0.005, _ACCENTED)
        vocab += _CJK
    first, last = _words(rng, 2_000, (2, 4)), _words(rng, 20_000, (2, 5))
    if intl:
        _accent(rng, last, 0.10, _INTL_ACCENTED)
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


def _dataset(variant: str, n_rows: int, n_names: int, seed: int):
    prefix = "selection" if variant == "default" else f"selection-{variant}"
    folder = CACHE_DIR / "bench" / f"{prefix}-v{_VERSION[variant]}-{n_rows}-{n_names}-{seed}"
    if not (folder / "names.txt").is_file():
        t = time.perf_counter()
        _make(folder, n_rows, n_names, seed, intl=variant == "intl")
        print(f"generated {n_rows:,} captions in {time.perf_counter() - t:.1f} s -> {folder}")
    names = (folder / "names.txt").read_text(encoding="utf-8").split("\n")
    return folder, names


def _timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def _naive(captions: pd.Series, names: list[str]) -> np.ndarray:
    return np.array([captions.str.contains(rf"\b{re.escape(n)}\b", case=False, regex=True).sum() for n in names])


def _read_limit(files: str) -> float:
    """DuckDB (every core) reading the caption column and nothing else."""
    with duckdb.connect() as con:
        t = time.perf_counter()
        con.sql("SELECT sum(strlen(TEXT)) FROM read_parquet($f)", params={"f": files}).fetchall()
        return time.perf_counter() - t


def _variant(variant: str, args, all_cores: int) -> tuple[Path, list[str], float]:
    folder, names = _dataset(variant, args.rows, args.names, args.seed)
    files = str(folder / "part-*.parquet")
    n_bytes = n_ascii = 0
    for path in sorted(folder.glob("part-*.parquet")):  # batch by batch: the peak memory stays the scanner's
        for batch in pq.ParquetFile(path).iter_batches(columns=["TEXT"]):
            n_bytes += pc.sum(pc.binary_length(batch.column(0))).as_py()
            n_ascii += pc.sum(pc.string_is_ascii(batch.column(0)).cast("int64")).as_py()
    non_ascii, mb = 1 - n_ascii / args.rows, n_bytes / 1e6
    print(
        f"\n[{variant}] {args.rows:,} captions ({mb:,.0f} MB of UTF-8, {non_ascii:.0%} not plain ASCII) "
        f"in {_FILES} parquet files, {len(names):,} names"
    )
    workers = sorted({1, all_cores})
    times: dict[str, list[float]] = {"read": [], **{f"w{w}": [] for w in workers}}
    counts = {}
    for rep in range(args.repeats):  # interleaved, so load from other processes hits every side alike
        times["read"].append(_read_limit(files))
        for w in workers:
            out, t = _timed(lambda w=w: count_mentions(files, names, workers=w, progress=False))
            assert out.attrs["captions_scanned"] == args.rows, out.attrs["captions_scanned"]
            counts[w] = out["caption_count"].to_numpy()
            times[f"w{w}"].append(t)
        print(f"  repeat {rep + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items()), flush=True)
    assert all((c == counts[1]).all() for c in counts.values()), "counts differ between worker counts"
    best = {k: min(v) for k, v in times.items()}
    print(f"  DuckDB reading the caption column (read limit): {best['read']:.2f} s")
    for w in workers:
        t = best[f"w{w}"]
        print(
            f"  scanner, {w} worker{'s' if w > 1 else ''}: {t:.2f} s, {args.rows / t:,.0f} captions/s, "
            f"{t / best['read']:.2f}x the read time"
        )
    if all_cores > 1:
        print(f"  1 -> {all_cores} workers: {best['w1'] / best[f'w{all_cores}']:.2f}x faster")
    print(f"  mentions: {int(counts[1].sum()):,}; names with > 100 captions: {int((counts[1] > 100).sum())}")
    return folder, names, best[f"w{all_cores}"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rows", type=int, default=5_000_000)
    p.add_argument("--names", type=int, default=5_000)
    p.add_argument("--few-names", type=int, default=100)
    p.add_argument("--naive-rows", type=int, default=2_000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--variants", default="default,intl")
    args = p.parse_args()
    all_cores = usable_cores()
    print(
        f"machine: {platform.machine()}, {all_cores} cores, {platform.system()}, Python "
        f"{platform.python_version()}, DuckDB {duckdb.__version__}, hyperscan {hyperscan.__version__}; "
        f"load average at start {os.getloadavg()[0]:.2f}"
    )
    for variant in args.variants.split(","):
        folder, names, t_many = _variant(variant, args, all_cores)
        if variant == "default":
            _default_extras(folder, names, t_many, args)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak memory of this process: {peak:,.0f} MiB; load average at the end {os.getloadavg()[0]:.2f}")


def _default_extras(folder, names: list[str], t_many: float, args) -> None:
    files = str(folder / "part-*.parquet")
    few, t_few = _timed(lambda: count_mentions(files, names[: args.few_names], progress=False))
    many = count_mentions(files, names, progress=False)
    assert (few["caption_count"].to_numpy() == many["caption_count"].to_numpy()[: args.few_names]).all()
    print(
        f"  scanner, {args.few_names} names: {t_few:.2f} s; names x{len(names) // args.few_names}: "
        f"time x{t_many / t_few:.2f} (goal <= 2)"
    )
    subset = pq.read_table(folder / "part-00.parquet", columns=["TEXT"]).slice(0, args.naive_rows)
    subset_file = folder / "subsets" / f"{args.naive_rows}.parquet"
    subset_file.parent.mkdir(exist_ok=True)
    pq.write_table(subset, subset_file)
    sub, t_sub = _timed(lambda: count_mentions(subset_file, names, progress=False))
    naive, t_naive = _timed(lambda: _naive(subset.column("TEXT").to_pandas(), names))
    agree = int((naive == sub["caption_count"].to_numpy()).sum())
    print(f"  subset of {args.naive_rows:,} captions, {len(names):,} names:")
    print(f"    naive pandas str.contains loop: {t_naive:.2f} s, {args.naive_rows / t_naive:,.0f} captions/s")
    print(f"    scanner (end to end, same rows): {t_sub:.3f} s, {args.naive_rows / t_sub:,.0f} captions/s")
    print(f"    speed-up: x{t_naive / t_sub:,.0f} (goal >= 50); counts agree for {agree:,}/{len(names):,} names")
    print(f"    full-run scanner rate vs naive: x{(args.rows / t_many) / (args.naive_rows / t_naive):,.0f}")


if __name__ == "__main__":
    main()
