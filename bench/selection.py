"""Benchmark of the caption scanner behind :func:`helpers.metadata.count_mentions` and the selection command
line (not a test).

Makes (once, cached under ``outputs/.cache/bench/``) LAION-like parquet sets of synthetic captions with
Zipf-distributed mentions of artist names, in three variants:

* *laion* (4,000,000 captions in 4 files, 3,000 names): short product, stock-photo and art titles of English
  words (Faker's word lists and a list of shop and stock words, none a word of a name), 58 bytes on average,
  6% with a non-ASCII word or symbol, 1% with a double space; 0.5% of the captions mention a name (Faker
  first and last names, a tenth from European locales);
* *default* (5,000,000 captions in 8 files, 5,000 names): words from a random vocabulary of syllables that
  the names share (so Hyperscan's literal prefilter fires almost everywhere), about 6% non-ASCII;
* *intl*: the same, mostly non-ASCII (accented words, curly quotes and apostrophes, CJK words; accented names).

For each variant, in one run and on the same files, it times DuckDB reading the caption column alone
(``sum(strlen(caption))``, all cores: the *read limit*), DuckDB handing that column to Arrow (what any
reader of Arrow batches pays), ``count_mentions`` in-process with 1 worker and with
every core, the selection command line end to end (``python -m helpers.selection ... --no-progress``, a fresh
interpreter) and the same command on a 1,000-caption file (its *fixed start*: interpreter, imports, reading
the candidates, compiling the names); repeats interleaved, minimum kept. It prints

* the command line's time as a multiple of the read time (goal: <= 2.5x), the same without its fixed start,
  and the fixed start in seconds: the interpreter, importing the libraries, importing the helpers, and the
  work (reading the candidates, checking the names, loading or compiling the Hyperscan database, writing);
* the floor of this design: ``count_mentions`` with its matching cut down to one Hyperscan pass over the bytes
  as they are (no other matching logic; wrong counts wherever the rule needs more), as a multiple of the read;
* ``count_mentions``'s time as a multiple of the read time, and the speed-up from 1 worker to every core
  (goal: in proportion to the cores);
* for the default variant also: the scanner's time with 100 names and with all the names (goal: at most
  2x slower), and a naive per-name pandas ``str.contains`` loop against the scanner on the same subset of
  rows (goal: >= 50x).

Every count of the command line and of each worker count must agree, or the run stops.

Usage: ``.venv/bin/python bench/selection.py [--variants laion,default,intl] [--rows N] [--names N]``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import hyperscan
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from helpers.captions import Matcher
from helpers.captions.matcher import _text_array, _utf8
from helpers.cores import usable_cores
from helpers.metadata import count_mentions
from helpers.paths import CACHE_DIR

_VERSION = {"default": 2, "intl": 1, "laion": 1}  # bump when the generator changes, so the cache is rebuilt
_FILES = 8
_LAION_FILES = 4
_SIZES = {"default": (5_000_000, 5_000), "intl": (5_000_000, 5_000), "laion": (4_000_000, 3_000)}
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


def _write_part(path: Path, captions: pa.Array, first_row: int, rng: np.random.Generator) -> None:
    """One parquet file of captions, with a URL (numbered from ``first_row``) and a random score per row."""
    n = len(captions)
    urls = pc.binary_join_element_wise("http://127.0.0.1/", pa.array(np.arange(n) + first_row).cast(pa.string()), "")
    table = pa.table({"TEXT": captions, "URL": urls, "AESTHETIC_SCORE": pa.array(rng.uniform(4.5, 8.0, size=n))})
    pq.write_table(table, path, row_group_size=250_000)


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
        _write_part(folder / f"part-{f:02d}.parquet", captions, f * per_file, rng)
    (folder / "names.txt").write_text("\n".join(names), encoding="utf-8")
    return names


_LAION_WORDS = """
art print poster canvas wall decor painting illustration photo photography stock image vector background
abstract landscape portrait watercolor oil acrylic drawing sketch digital design pattern texture seamless
vintage retro modern classic rustic minimalist boho floral flower flowers rose garden tree trees forest
mountain mountains lake river ocean sea beach sunset sunrise sky clouds night city skyline street building
house home kitchen living room bedroom bathroom office table chair sofa lamp rug pillow cushion cover curtain
shirt t-shirt dress women's men's kids baby girl boy girls boys womens mens unisex cotton linen leather wool
silk denim jacket coat hoodie sweater jeans pants shorts skirt shoes boots sneakers sandals bag handbag
backpack wallet watch ring necklace earrings bracelet jewelry gold silver rose-gold diamond crystal pearl
black white red blue green yellow pink purple orange brown grey gray navy beige cream ivory teal turquoise
small medium large size pack set piece pcs inch cm mm new hot sale free shipping high quality premium
luxury cheap best top gift gifts christmas birthday wedding party holiday summer winter spring autumn fall
halloween easter valentine's day mother's father's love heart happy cute funny cool beautiful pretty
young old woman man people family friends couple child children dog cat puppy kitten horse bird animal
animals wildlife nature natural outdoor indoor travel tourism food fresh healthy salad fruit vegetables
coffee tea cake chocolate wine beer bottle glass cup mug plate bowl wooden wood metal steel plastic paper
car truck bike bicycle motorcycle train plane boat ship road bridge tower church castle park village
business concept technology computer laptop phone smartphone tablet screen icon icons logo symbol sign
set of with and for the in on of to a an by from at or is are your my our this that up out over under
close-up view top-view aerial isolated on-white background white-background copy-space text space banner
template card greeting invitation frame framed unframed limited edition original signed hand-made handmade
3d render rendering concept-art fantasy sci-fi character anime manga cartoon comic pixel artwork artist
gallery museum exhibition collection series vol volume book cover page magazine edition chapter story
""".split()
_LAION_NUMBERS = (
    "2 3 4 5 6 8 10 12 16 20 24 30 50 100 2018 2019 2020 2021 4k hd 1080p 16x20 8x10 xl xxl 100% #1 (2)".split()
)
_LAION_PUNCT = ["-", "|", ",", "&", ":", "/"]
_LAION_NON_ASCII = (
    "café rosé résumé naïve crème brûlée Pokémon São Paulo München Zürich Köln Málaga México España Québec "
    "Montréal Côte d’Azur Frühling Schön Größe Mädchen Jeans Größe Ærø Øresund Kraków Łódź Beyoncé Señorita "
    "piñata jalapeño fiancée décor entrée élégant très belle mañana niño año façade"
).split() + [
    "Women’s",
    "Men’s",
    "Kid’s",
    "don’t",
    "it’s",
    "“Love”",
    "“Home”",
    "‘Hello’",
    "–",
    "—",
    "™",
    "®",
    "©",
    "°C",
    "25°",
    "×",
    "€19.99",
    "£25",
    "•",
    "…",
    "½",
    "¼",
    "\u00a0",
    "a\u00a0b",
    "風景",
    "桜",
    "東京",
    "猫",
    "かわいい",
    "アニメ",
    "상품",
    "Москва",
    "Красивая",
    "девушка",
    "Ελλάδα",
    "ดอกไม้",
    "❤️",
    "✨",
    "🌸",
    "😍",
    "🔥",
    "★",
    "☆",
    "♥",
    "→",
]


def _laion_vocabulary(name_words: set[str]) -> tuple[list[str], np.ndarray]:
    """English-like caption words (product, stock and art words first, then Faker's lorem words, colours and
    job words), none of them a word of a name, with Zipf-like weights in that order."""
    from faker.providers.color.en_US import Provider as Colors
    from faker.providers.job.en_US import Provider as Jobs
    from faker.providers.lorem.en_US import Provider as Lorem

    colours = [w for c in Colors.all_colors for w in re.findall("[A-Z][a-z]+", c)]
    jobs = [w for job in Jobs.jobs for w in re.findall("[a-z]+", job.lower())]
    words = list(dict.fromkeys(w for w in [*_LAION_WORDS, *Lorem.word_list, *colours, *jobs]))
    words = [w for w in words if w.lower() not in name_words]
    weights = 1.0 / (np.arange(len(words)) + 10.0)
    return words, weights / weights.sum()


def _laion_names(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` distinct two-word names from Faker's first and last names, one in ten from a European locale."""
    from faker.providers.person import de_DE, en_US, es_ES, fr_FR

    locales = [en_US.Provider] * 7 + [de_DE.Provider, fr_FR.Provider, es_ES.Provider]
    names: dict[str, None] = {}
    while len(names) < n:
        people = locales[int(rng.integers(len(locales)))]
        first, last = list(people.first_names), list(people.last_names)
        names.setdefault(f"{first[int(rng.integers(len(first)))]} {last[int(rng.integers(len(last)))]}")
    return list(names)


def _make_laion(folder, n_rows: int, n_names: int, seed: int) -> list[str]:
    """Captions like LAION's: short product, stock-photo and art titles of English words (mostly Title or
    sentence case, some in capitals), numbers and separators; 0.5% mention a name (Zipf-like), 6% hold a
    non-ASCII word or symbol, 1% a double space."""
    rng = np.random.default_rng(seed)
    names = _laion_names(rng, n_names)
    name_words = {w.lower() for n in names for w in n.split()}
    words, weights = _laion_vocabulary(name_words)
    tokens = words + _LAION_NUMBERS + _LAION_PUNCT + _LAION_NON_ASCII + names
    n_words, n_plain = len(words), len(words) + len(_LAION_NUMBERS) + len(_LAION_PUNCT)
    name_weights = 1.0 / (np.arange(n_names) + 20.0)
    name_weights /= name_weights.sum()
    table_tokens = pa.array(tokens, type=pa.string())
    folder.mkdir(parents=True, exist_ok=True)
    per_file = -(-n_rows // _LAION_FILES)
    for f in range(_LAION_FILES):
        n = min(per_file, n_rows - f * per_file)
        lengths = np.clip(np.rint(rng.lognormal(np.log(7.5), 0.55, size=n)), 1, 60).astype(np.int64)
        offsets = np.concatenate([[0], np.cumsum(lengths)])
        idx = rng.choice(n_words, size=int(offsets[-1]), p=weights)
        other = rng.random(len(idx)) < 0.08  # numbers and separators
        idx[other] = rng.integers(n_words, n_plain, size=int(other.sum()))

        # one token of 6% of the captions non-ASCII, of 0.5% a name
        for share, lo, p_token in ((0.062, n_plain, None), (0.005, n_plain + len(_LAION_NON_ASCII), name_weights)):
            rows = np.flatnonzero(rng.random(n) < share)
            at = offsets[rows] + rng.integers(0, lengths[rows])
            idx[at] = lo + rng.choice(len(_LAION_NON_ASCII) if p_token is None else n_names, len(rows), p=p_token)
        words_of = table_tokens.take(pa.array(idx))
        captions = pc.binary_join(pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), words_of), " ")
        captions = pc.replace_substring(captions, " , ", ", ")
        style = rng.random(n)
        captions = pc.if_else(pa.array(style < 0.45), pc.utf8_title(captions), captions)
        captions = pc.if_else(pa.array((style >= 0.45) & (style < 0.9)), pc.utf8_capitalize(captions), captions)
        captions = pc.if_else(pa.array(style >= 0.96), pc.utf8_upper(captions), captions)
        double = pa.array(rng.random(n) < 0.01)
        captions = pc.if_else(double, pc.replace_substring(captions, " ", "  ", max_replacements=1), captions)
        _write_part(folder / f"part-{f:02d}.parquet", captions, f * per_file, rng)
    (folder / "names.txt").write_text("\n".join(names), encoding="utf-8")
    return names


def _dataset(variant: str, n_rows: int, n_names: int, seed: int):
    prefix = "selection" if variant == "default" else f"selection-{variant}"
    folder = CACHE_DIR / "bench" / f"{prefix}-v{_VERSION[variant]}-{n_rows}-{n_names}-{seed}"
    if not (folder / "names.txt").is_file():
        t = time.perf_counter()
        if variant == "laion":
            _make_laion(folder, n_rows, n_names, seed)
        else:
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


_LIBRARIES = "numpy, pyarrow.parquet, pandas, duckdb, hyperscan"


def _cli(files: str, artists: Path, out: Path) -> float:
    """Seconds for the selection command line, a fresh interpreter, end to end."""
    cmd = [sys.executable, "-m", "helpers.selection", "--metadata", files, "--artists", str(artists)]
    t = time.perf_counter()
    subprocess.run([*cmd, "--out", str(out), "--no-progress"], check=True, capture_output=True)
    return time.perf_counter() - t


def _python(code: str) -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    return time.perf_counter() - t


def _arrow_export(files: str) -> float:
    """DuckDB (every core) handing the caption column to Arrow: what any reader of Arrow batches pays."""
    with duckdb.connect() as con:
        t = time.perf_counter()
        for _batch in con.sql("SELECT TEXT FROM read_parquet($f)", params={"f": files}).to_arrow_reader(131_072):
            pass
        return time.perf_counter() - t


@contextlib.contextmanager
def _one_pass():
    """The scanner with its matching cut down to one Hyperscan pass of the names over every caption's bytes as
    they are, the hits mapped to captions: its reading, units and workers unchanged, and none of the rest of
    the rule (no test for non-ASCII text, no folding, no flags). What this design costs with no matching
    logic at all; its counts are wrong wherever the rule needs more than a caseless match."""
    exact = Matcher.find

    def find(self, captions):
        return self._scan(*_utf8(_text_array(captions)), None)

    Matcher.find = find
    try:
        yield
    finally:
        Matcher.find = exact


def _variant(variant: str, args, all_cores: int) -> tuple[Path, list[str], float]:
    n_rows, n_names = args.rows or _SIZES[variant][0], args.names or _SIZES[variant][1]
    folder, names = _dataset(variant, n_rows, n_names, args.seed)
    files = str(folder / "part-*.parquet")
    paths = sorted(folder.glob("part-*.parquet"))
    n_bytes = n_ascii = 0
    for path in paths:  # batch by batch: the peak memory stays the scanner's
        for batch in pq.ParquetFile(path).iter_batches(columns=["TEXT"]):
            n_bytes += pc.sum(pc.binary_length(batch.column(0))).as_py()
            n_ascii += pc.sum(pc.string_is_ascii(batch.column(0)).cast("int64")).as_py()
    non_ascii, mb = 1 - n_ascii / n_rows, n_bytes / 1e6
    print(
        f"\n[{variant}] {n_rows:,} captions ({mb:,.0f} MB of UTF-8, {n_bytes / n_rows:.0f} bytes each, "
        f"{non_ascii:.0%} not plain ASCII) in {len(paths)} parquet files, {len(names):,} names"
    )
    artists = folder / "artists.csv"
    pd.DataFrame({"artist": names}).to_csv(artists, index=False)
    small = folder / "subsets" / "start-1000.parquet"  # the command line's fixed start: 1,000 captions
    small.parent.mkdir(exist_ok=True)
    pq.write_table(pq.read_table(paths[0], columns=["TEXT"]).slice(0, 1_000), small)
    out = folder / "subsets" / "selection.csv"
    workers = sorted({1, all_cores})
    times: dict[str, list[float]] = {
        "read": [],
        "export": [],
        "one-pass": [],
        **{f"w{w}": [] for w in workers},
        "cli": [],
        "start": [],
    }
    counts = {}
    for rep in range(args.repeats):  # interleaved, so load from other processes hits every side alike
        times["read"].append(_read_limit(files))
        times["export"].append(_arrow_export(files))
        with _one_pass():
            times["one-pass"].append(_timed(lambda: count_mentions(files, names, progress=False))[1])
        for w in workers:
            got, t = _timed(lambda w=w: count_mentions(files, names, workers=w, progress=False))
            assert got.attrs["captions_scanned"] == n_rows, got.attrs["captions_scanned"]
            counts[w] = got["caption_count"].to_numpy()
            times[f"w{w}"].append(t)
        times["cli"].append(_cli(files, artists, out))
        counts["cli"] = pd.read_csv(out, keep_default_na=False)["caption_count"].to_numpy()
        times["start"].append(_cli(str(small), artists, out))
        print(f"  repeat {rep + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items()), flush=True)
    assert all((c == counts[1]).all() for c in counts.values()), "counts differ between workers or the CLI"
    best = {k: min(v) for k, v in times.items()}
    read = best["read"]
    print(f"  DuckDB reading the caption column (read limit): {read:.2f} s, {n_rows / read:,.0f} captions/s")
    print(
        f"  DuckDB handing the caption column to Arrow: {best['export']:.2f} s, {best['export'] / read:.2f}x the read"
    )
    print(
        f"  one Hyperscan pass over the bytes as they are, read as the scanner reads, {all_cores} workers (the "
        f"floor of this design): {best['one-pass']:.2f} s, {best['one-pass'] / read:.2f}x the read"
    )
    for w in workers:
        t = best[f"w{w}"]
        print(
            f"  count_mentions in-process, {w} worker{'s' if w > 1 else ''}: {t:.2f} s, "
            f"{n_rows / t:,.0f} captions/s, {t / read:.2f}x the read time"
        )
    if all_cores > 1:
        print(f"  1 -> {all_cores} workers: {best['w1'] / best[f'w{all_cores}']:.2f}x faster")
    cli, start = best["cli"], best["start"]
    print(f"  selection CLI end to end (python -m helpers.selection): {cli:.2f} s, {cli / read:.2f}x the read time")
    print(f"  CLI fixed start (the same command on 1,000 captions): {start:.2f} s")
    print(f"  CLI without its fixed start: {cli - start:.2f} s, {(cli - start) / read:.2f}x the read time")
    interpreter = min(_python("pass") for _ in range(3))
    libraries = min(_python(f"import {_LIBRARIES}") for _ in range(3))
    imports = min(_python(f"import {_LIBRARIES}, helpers.selection") for _ in range(3))
    print(
        f"    of the fixed start: interpreter {interpreter:.2f} s, + {_LIBRARIES} {libraries - interpreter:.2f} s, "
        f"+ helpers {imports - libraries:.2f} s, + the work {start - imports:.2f} s"
    )
    print(f"  mentions: {int(counts[1].sum()):,}; names with > 100 captions: {int((counts[1] > 100).sum())}")
    return folder, names, best[f"w{all_cores}"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rows", type=int, help="captions per variant (default: laion 4,000,000, others 5,000,000)")
    p.add_argument("--names", type=int, help="names per variant (default: laion 3,000, others 5,000)")
    p.add_argument("--few-names", type=int, default=100)
    p.add_argument("--naive-rows", type=int, default=2_000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--variants", default="laion,default,intl")
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
    n_rows = args.rows or _SIZES["default"][0]
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
    print(f"    full-run scanner rate vs naive: x{(n_rows / t_many) / (args.naive_rows / t_naive):,.0f}")


if __name__ == "__main__":
    main()
