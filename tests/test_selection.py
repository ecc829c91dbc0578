"""Stage 01's counting and selection (helpers.captions, helpers.metadata, helpers.selection): exact planted
counts, agreement with a slow reference, the CLI, synthetic metadata, URL sampling, and img2dataset
downloads from a local HTTP server (helpers.download)."""

from __future__ import annotations

import ast
import functools
import http.server
import io
import re
import signal
import subprocess
import sys
import threading
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from helpers.captions import normalize_text, occurs
from helpers.download import download_real_works
from helpers.errors import AuditError
from helpers.metadata import count_mentions, sample_real_work_urls
from helpers.names import slug
from helpers.paths import PARAMS_DIR, PROJECT_ROOT
from helpers.selection import read_candidates, select
from helpers.synthetic import make_synthetic_metadata
from helpers.works import read_caption_drops

# ----------------------------------------------------------------------------- planted metadata

NAMES = [
    "Sam Yang",
    "Sam Yangson",
    "Loish",
    "Simon Stålenhag",
    "Jim O'Neil",
    "Bastien Lecouffe-Deharme",
    "Ross Tran",
    "Ross Tranquility",
    "Rutkowski",
    "Greg Rutkowski",
    "新海誠",
    "Илья Кувшинов",
    "حسن المسعود",
]
SY, SYS, LO, ST, JO, BL, RT, RTQ, RU, GR, MS, IK, HM = NAMES

# (caption, names it mentions, score). The mentions are written by hand: they are the specification.
ROWS = [
    ("portrait by Sam Yang", {SY}, 7.0),
    ("SAM YANG style, anime girl", {SY}, 7.0),
    ("sam yang, sam yang, sam yang", {SY}, 7.0),  # repeated: counts once
    ("Sam\u00a0Yang illustration", {SY}, 5.0),  # no-break space
    ("Sam  Yang\tand friends", {SY}, 7.0),  # two spaces, a tab
    ("sam\nyang", {SY}, 7.0),
    ("Samyang 14mm f2.8 lens", set(), 7.0),
    ("Sam Yangson painting", {SYS}, 7.0),
    ("sam_yang handle", set(), 7.0),  # underscore is a word character
    ("art by loish", {LO}, 7.0),
    ("Loishes", set(), 7.0),
    ("LOISH!", {LO}, 5.5),
    ("loish, score unknown", {LO}, float("nan")),  # NaN never passes a threshold
    ("loish's painting", {LO}, 7.0),
    ("Loish风格的插画", {LO}, 7.0),  # CJK right after: still a mention
    ("#loish #art", {LO}, 7.0),
    ("loish2", set(), 7.0),
    ("xloish", set(), 7.0),
    ("Simon Stålenhag", {ST}, 7.0),
    ("simon stalenhag poster", {ST}, 7.0),
    ("SIMON STÅLENHAG", {ST}, 4.0),
    ("Simon Sta\u030alenhag (decomposed)", {ST}, 7.0),
    ("simon stålenhagg", set(), 7.0),
    ("Jim O'Neil", {JO}, 7.0),
    ("jim o\u2019neil cover", {JO}, 7.0),
    ("JIM O\u2018NEIL", {JO}, 7.0),
    ("Jim O`Neil", {JO}, 7.0),
    ("Jim ONeil", set(), 7.0),
    ("Bastien Lecouffe-Deharme", {BL}, 7.0),
    ("bastien lecouffe\u2010deharme", {BL}, 7.0),
    ("Bastien Lecouffe Deharme", set(), 7.0),
    ("ross tran", {RT}, 7.0),
    ("Ross Tran.", {RT}, 7.0),
    ("Ross Tranquility", {RTQ}, 7.0),
    ("ross tranquility and ross tran", {RT, RTQ}, 7.0),
    ("greg rutkowski", {GR, RU}, 7.0),
    ("Greg Rutkowski, trending on artstation", {GR, RU}, 5.0),
    ("rutkowski", {RU}, 7.0),
    ("gregrutkowski", set(), 7.0),
    ("新海誠の作品", {MS}, 7.0),
    ("新海誠", {MS}, 7.0),
    ("作者：新海誠", {MS}, 7.0),
    ("портрет, илья кувшинов", {IK}, 7.0),
    ("ИЛЬЯ КУВШИНОВ", {IK}, 7.0),
    ("Ильяс Кувшинов", set(), 7.0),
    ("لوحة حسن المسعود", {HM}, 7.0),
    ("حسن المسعودي", set(), 7.0),
    ("富士山の風景", set(), 7.0),
    ("пейзаж с замком", set(), 7.0),
    ("منظر طبيعي", set(), 7.0),
    ("", set(), 7.0),
    (None, set(), 7.0),
    (None, set(), 7.0),
]


def _expected(rows, names=NAMES, min_score=None) -> list[int]:
    return [
        sum(1 for caption, who, score in rows if name in who and (min_score is None or score >= min_score))
        for name in names
    ]


def _write_parts(folder: Path, rows, n_files: int = 3) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n_files):
        part = rows[i::n_files]
        pq.write_table(
            pa.table(
                {
                    "TEXT": pa.array([r[0] for r in part], type=pa.string()),
                    "URL": [f"http://127.0.0.1/{i}/{j}.jpg" for j in range(len(part))],
                    "AESTHETIC_SCORE": [r[2] for r in part],
                }
            ),
            folder / f"part-{i}.parquet",
        )
    return folder


@pytest.fixture
def planted(tmp_path) -> Path:
    return _write_parts(tmp_path / "meta", ROWS)


def _counts(table: pd.DataFrame) -> list[int]:
    return table["caption_count"].tolist()


# ----------------------------------------------------------------------------- normalisation


@pytest.mark.parametrize(
    ("raw", "norm"),
    [
        ("Simon Stålenhag", "simon stalenhag"),
        ("Simon Sta\u030alenhag", "simon stalenhag"),
        ("Jim O\u2019Neil", "jim o'neil"),
        ("Jim O\u00b4Neil", "jim o'neil"),
        ("\u201cquoted\u201d", '"quoted"'),
        ("Lecouffe\u2011Deharme", "lecouffe-deharme"),
        ("Straße", "strasse"),
        ("Ｌｏｉｓｈ", "loish"),  # full-width
        ("Łukasz Søren Æsir", "lukasz soren aesir"),
        ("  a\u00a0\u3000b\t\nc\x00d\x85e\x07f  ", "a b c d e f"),
        ("新海誠", "新海誠"),
        ("がぎ", "がぎ"),  # kana voicing marks are kept
        ("Илья Кувшинов", "илья кувшинов"),
    ],
)
def test_normalize_text(raw, norm):
    assert normalize_text(raw) == norm
    assert normalize_text(norm) == norm


# ----------------------------------------------------------------------------- counting


def test_planted_counts_exact(planted):
    table = count_mentions(planted / "*.parquet", NAMES, progress=False)
    assert table["artist"].tolist() == NAMES
    assert _counts(table) == _expected(ROWS)
    assert table.attrs["captions_scanned"] == sum(r[0] is not None for r in ROWS)


def test_inputs_glob_folder_list_and_small_batches_agree(planted):
    expected = _expected(ROWS)
    files = sorted(planted.glob("*.parquet"))
    assert _counts(count_mentions(planted, NAMES, progress=False)) == expected
    assert _counts(count_mentions([files[0], str(planted / "part-[12].parquet")], NAMES, progress=False)) == expected
    assert _counts(count_mentions(planted, NAMES, progress=False, batch_size=3, threads=1)) == expected


def test_score_threshold_is_inclusive(planted):
    table = count_mentions(planted, NAMES, score_column="AESTHETIC_SCORE", min_score=5.5, progress=False)
    assert _counts(table) == _expected(ROWS, min_score=5.5)
    assert table.loc[table.artist == SY, "caption_count"].item() == 5  # the 5.0 row dropped
    assert table.loc[table.artist == LO, "caption_count"].item() == 5  # the 5.5 row kept


def test_names_that_normalise_alike_each_get_the_count(planted):
    table = count_mentions(planted, ["Simon Stålenhag", "Simon Stalenhag"], progress=False)
    assert _counts(table) == [4, 4]


def test_count_errors(planted, tmp_path):
    with pytest.raises(AuditError, match=r"no column 'caption'.*\['TEXT', 'URL', 'AESTHETIC_SCORE'\]"):
        count_mentions(planted, NAMES, caption_column="caption", progress=False)
    with pytest.raises(AuditError, match="matches no parquet file"):
        count_mentions(tmp_path / "nothing*.parquet", NAMES, progress=False)
    with pytest.raises(AuditError, match="min_score needs score_column"):
        count_mentions(planted, NAMES, min_score=6, progress=False)
    with pytest.raises(AuditError, match="no column 'SCORE'"):
        count_mentions(planted, NAMES, score_column="SCORE", min_score=6, progress=False)
    with pytest.raises(AuditError, match="duplicates row 1"):
        count_mentions(planted, ["Loish", "LOISH"], progress=False)
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"not parquet")
    with pytest.raises(AuditError, match="not a readable parquet file"):
        count_mentions(bad, NAMES, progress=False)


# ----------------------------------------------------------------------------- slow reference


_UNSPACED_WORDS = {"CJK", "HIRAGANA", "KATAKANA", "HANGUL", "THAI", "LAO", "KHMER", "MYANMAR", "BOPOMOFO"}


def _ref_is_word(ch: str) -> bool:
    if ch == "_":
        return True
    if unicodedata.category(ch)[0] not in "LMN":
        return False
    return unicodedata.name(ch, "").split(" ")[0] not in _UNSPACED_WORDS


def _reference_counts(captions, names) -> list[int]:
    """Obviously correct and slow: per caption, per name, every occurrence found by a regex, boundaries
    checked by hand."""
    counts = []
    for name in names:
        pattern = normalize_text(name)
        finder = re.compile("(?=" + re.escape(pattern) + ")")
        n = 0
        for caption in captions:
            if caption is None:
                continue
            text = normalize_text(caption)
            for m in finder.finditer(text):
                a, b = m.start(), m.start() + len(pattern)
                if (a == 0 or not _ref_is_word(text[a - 1])) and (b == len(text) or not _ref_is_word(text[b])):
                    n += 1
                    break
        counts.append(n)
    return counts


def _random_captions(rng: np.random.Generator, n: int, names: list[str]) -> list[str | None]:
    variants = []
    for name in names:
        variants += [
            name,
            name.lower(),
            name.upper(),
            unicodedata.normalize("NFD", name),
            name.replace("'", "\u2019"),
        ]
    confusers = [
        "Samyang",
        "Loishes",
        "Sam Yangs",
        "Ross Tranquil",
        "Rutkowskis",
        "Sam",
        "Yang",
        "O'",
        "新海",
        "Илья",
    ]
    words = [
        "art",
        "by",
        "portrait",
        "the",
        "of",
        "in",
        "style",
        "風景",
        "пейзаж",
        "منظر",
        "ß",
        "é",
        "2",
        "x",
    ]
    odd = ["\u00a0", "\u3000", "\t", "\n", "\x00", "\x85", "\x07", "\u0301", "\u200b", "😀", "\u2028", "  "]
    glue = ["", " ", " ", " ", ", ", "-", "_", "'", "\u2019", "の", "风格", "(", ")", "#", "."]
    out: list[str | None] = []
    for _ in range(n):
        if rng.random() < 0.02:
            out.append(None)
            continue
        parts = []
        for _ in range(int(rng.integers(1, 8))):
            pool = rng.choice(4, p=[0.3, 0.15, 0.45, 0.1])
            src = (variants, confusers, words, odd)[pool]
            parts.append(src[int(rng.integers(len(src)))])
            parts.append(glue[int(rng.integers(len(glue)))])
        out.append("".join(parts))
    return out


@pytest.mark.parametrize("seed", [0, 1])
def test_matches_slow_reference_on_random_captions(tmp_path, seed):
    rng = np.random.default_rng(seed)
    names = NAMES + ["Sam", "Yang", "Art", "O'Neil"]
    captions = _random_captions(rng, 2500, names)
    rows = [(c, set(), float(rng.uniform(4, 8))) for c in captions]
    folder = _write_parts(tmp_path / "random", rows, n_files=2)
    got = count_mentions(folder, names, progress=False, batch_size=97)
    assert _counts(got) == _reference_counts(captions, names)
    assert sum(_counts(got)) > 500  # the test exercises many matches


# ----------------------------------------------------------------------------- candidates and selection


def test_read_candidates_params_file():
    table = read_candidates(PARAMS_DIR / "artists.csv")
    assert list(table.columns[:3]) == ["artist", "alive", "online_presence"]
    assert "Simon Stålenhag" in table["artist"].tolist()
    assert str(table["alive"].dtype) == "boolean"


def test_read_candidates_parsing_and_errors(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("Artist, Alive ,note\n Loish ,YES,x\nSam  Yang,0,\nWLOP,,y\nBeeple,True,\n", encoding="utf-8")
    table = read_candidates(path)
    assert table["artist"].tolist() == ["Loish", "Sam Yang", "WLOP", "Beeple"]
    assert table["alive"].tolist() == [True, False, pd.NA, True]
    assert table["online_presence"].isna().all()  # missing column: not curated
    assert table["note"].tolist() == ["x", "", "y", ""]

    with pytest.raises(AuditError, match="does not exist"):
        read_candidates(tmp_path / "missing.csv")
    (tmp_path / "b.csv").write_text("name\nLoish\n", encoding="utf-8")
    with pytest.raises(AuditError, match=r"b\.csv: no 'artist' column; the columns are \['name'\]"):
        read_candidates(tmp_path / "b.csv")
    (tmp_path / "c.csv").write_text("artist,alive\nLoish,maybe\n", encoding="utf-8")
    with pytest.raises(AuditError, match="column 'alive', row 1: 'maybe'"):
        read_candidates(tmp_path / "c.csv")
    (tmp_path / "d.csv").write_text("artist\nLoish\nloish\n", encoding="utf-8")
    with pytest.raises(AuditError, match="duplicates row 1"):
        read_candidates(tmp_path / "d.csv")
    (tmp_path / "e.csv").write_bytes(b"")
    with pytest.raises(AuditError, match="empty"):
        read_candidates(tmp_path / "e.csv")
    (tmp_path / "f.csv").write_bytes(b"artist\n\xff\xfe\n")
    with pytest.raises(AuditError, match="UTF-8"):
        read_candidates(tmp_path / "f.csv")


def _candidates():
    return pd.DataFrame(
        {
            "artist": ["A One", "B Two", "C Three", "D Four", "E Five"],
            "alive": pd.array([True, True, False, pd.NA, True], dtype="boolean"),
            "online_presence": pd.array([True, False, True, True, True], dtype="boolean"),
        }
    )


def test_select_criteria_and_reasons():
    counts = pd.DataFrame(
        {"artist": ["E Five", "A One", "B Two", "C Three", "D Four"], "caption_count": [100, 101, 500, 37, 1]}
    )
    table = select(_candidates(), counts)
    assert table["artist"].tolist() == ["A One", "B Two", "C Three", "D Four", "E Five"]
    assert table["caption_count"].tolist() == [101, 500, 37, 1, 100]
    assert table["selected"].tolist() == [True, False, False, False, False]
    assert table["reason"].tolist() == [
        "",
        "no online presence",
        "only 37 captions (needs > 100); not alive",
        "only 1 caption (needs > 100); alive not curated",
        "only 100 captions (needs > 100)",  # strictly more than min_images
    ]
    assert table["count_verified"].all()
    relaxed = select(_candidates(), counts, min_images=30, require_alive=False, require_online_presence=False)
    assert relaxed["selected"].tolist() == [True, True, True, False, True]


def test_select_without_counts():
    table = select(_candidates(), None)
    assert table["caption_count"].isna().all()
    assert table["selected"].tolist() == [True, False, False, False, True]
    assert table["reason"].tolist()[:3] == [
        "count not verified",
        "no online presence; count not verified",
        "not alive; count not verified",
    ]
    assert not table["count_verified"].any()


def test_select_errors():
    with pytest.raises(AuditError, match="no row for 4 candidate"):
        select(_candidates(), pd.DataFrame({"artist": ["A One"], "caption_count": [3]}))
    with pytest.raises(AuditError, match="min_images"):
        select(_candidates(), None, min_images=-1)


# ----------------------------------------------------------------------------- command line


def _cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "helpers.selection", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=120,
    )


def test_cli_matches_functions_and_fails_cleanly(planted, tmp_path):
    artists = tmp_path / "artists.csv"
    pd.DataFrame({"artist": NAMES, "alive": True, "online_presence": True}).to_csv(artists, index=False)
    out = tmp_path / "out" / "selection.csv"
    done = _cli(
        "--metadata",
        planted / "*.parquet",
        "--artists",
        artists,
        "--out",
        out,
        "--min-images",
        3,
        "--no-progress",
    )
    assert done.returncode == 0, done.stderr
    expected = select(
        read_candidates(artists), count_mentions(planted / "*.parquet", NAMES, progress=False), min_images=3
    )
    assert out.read_text(encoding="utf-8") == expected.to_csv(index=False)
    assert pd.read_csv(out)["selected"].tolist() == [c > 3 for c in _expected(ROWS)]

    bad = _cli(
        "--metadata",
        planted,
        "--artists",
        artists,
        "--out",
        tmp_path / "x.csv",
        "--caption-column",
        "caption",
    )
    assert bad.returncode == 2
    assert len(bad.stderr.strip().splitlines()) == 1
    assert "no column 'caption'" in bad.stderr and "TEXT" in bad.stderr
    assert not (tmp_path / "x.csv").exists()


def test_cli_starts_without_what_it_does_not_need(planted, tmp_path):
    """The command line's fixed start (bench/selection.py) is mostly imports: it counts and selects without the
    parameter schema (pydantic, yaml), figures (matplotlib), images (Pillow) or, without a bar, tqdm."""
    artists = tmp_path / "artists.csv"
    pd.DataFrame({"artist": NAMES}).to_csv(artists, index=False)
    argv = ["--metadata", str(planted / "*.parquet"), "--artists", str(artists), "--out", str(tmp_path / "s.csv")]
    script = (
        "import sys\n"
        "from helpers.selection import main\n"
        f"main({[*argv, '--no-progress']!r})\n"
        "print(sorted({m.split('.')[0] for m in sys.modules}))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    loaded = set(ast.literal_eval(done.stdout.strip().splitlines()[-1]))
    assert {"helpers", "duckdb", "hyperscan"} <= loaded  # it did scan
    assert not loaded & {"pydantic", "yaml", "matplotlib", "PIL", "tqdm"}, loaded


# ----------------------------------------------------------------------------- synthetic metadata


def test_make_synthetic_metadata(tmp_path):
    names = read_candidates(PARAMS_DIR / "artists.csv")["artist"].tolist()
    planted = make_synthetic_metadata(tmp_path / "a" / "meta.parquet", names, seed=3)
    again = make_synthetic_metadata(tmp_path / "b.parquet", names, seed=3)
    assert planted == again
    assert pq.read_table(tmp_path / "a" / "meta.parquet").equals(pq.read_table(tmp_path / "b.parquet"))
    table = pq.read_table(tmp_path / "b.parquet")
    assert table.column_names == ["TEXT", "URL", "AESTHETIC_SCORE", "WIDTH", "HEIGHT"]
    assert all(u.startswith("http://127.0.0.1/") for u in table.column("URL").to_pylist())
    values = list(planted.values())
    assert min(values) < 100 < max(values) and any(v > 100 for v in values) and any(v <= 100 for v in values)
    counts = count_mentions(
        tmp_path / "b.parquet", names, score_column="AESTHETIC_SCORE", min_score=6.5, progress=False
    )
    assert dict(zip(counts["artist"], counts["caption_count"], strict=True)) == planted


def test_make_synthetic_metadata_custom_and_nested(tmp_path):
    planted = make_synthetic_metadata(
        tmp_path / "m.parquet",
        ["Greg Rutkowski", "Rutkowski", "Loish"],
        counts={"Greg Rutkowski": 4, "Rutkowski": 2},
        n_noise=50,
    )
    assert planted == {"Greg Rutkowski": 4, "Rutkowski": 6, "Loish": 0}
    counts = count_mentions(tmp_path / "m.parquet", list(planted), progress=False)
    assert counts["caption_count"].tolist() == [4, 6, 0]


# ----------------------------------------------------------------------------- real works


def _captions(path: Path, rows) -> Path:
    pq.write_table(pa.table({"TEXT": [c for c, _ in rows], "URL": [u for _, u in rows]}), path)
    return path


def test_sample_keeps_only_captions_that_credit_one_artist(tmp_path):
    """Authorship, not mention: a style reference, a caption naming two candidates, a bare mention and a URL
    credited to two artists never make a real work; each kept one records its caption and credit form, and
    every drop is counted by reason."""
    rows = [
        ("portrait by Sam Yang", "u1"),
        ("art by Loish", "u2"),
        ("Loish’s painting of a fox", "u3"),
        ("castle in the style of Loish", "u4"),
        ("inspired by Sam Yang", "u5"),
        ("SAM YANG style, anime girl", "u6"),
        ("art by Loish and Sam Yang", "u7"),
        ("by Loish, like Greg Rutkowski", "u8"),
        ("loish", "u9"),
        ("illustration by loish", "u10"),
        ("artwork by Sam Yang", "u10"),
        ("a fox by Loish", "u11"),
        ("a fox by Loish, again", "u11"),
        ("painting inspired by Loish", "u12"),
    ]
    metadata = _captions(tmp_path / "m.parquet", rows)
    sample = sample_real_work_urls(metadata, [SY, LO], others=[GR, SY], per_artist=10, seed=1, progress=False)
    got = {(r.artist, r.url): (r.caption, r.form) for r in sample.works.itertuples()}
    assert got == {
        (SY, "u1"): ("portrait by Sam Yang", "by {artist}"),
        (LO, "u2"): ("art by Loish", "art by {artist}"),
        (LO, "u3"): ("Loish’s painting of a fox", "{artist}'s painting"),
        (LO, "u11"): ("a fox by Loish", "by {artist}"),
    }
    dropped = sample.dropped.set_index("artist").to_dict("index")
    assert dropped[LO] == {
        "mentions": 10,
        "several_candidates": 2,
        "style_reference": 2,
        "no_credit_form": 1,
        "credited": 5,
        "urls_of_several_artists": 1,
        "sampled": 3,
    }
    assert dropped[SY] == {
        "mentions": 5,
        "several_candidates": 1,
        "style_reference": 2,
        "no_credit_form": 0,
        "credited": 2,
        "urls_of_several_artists": 1,
        "sampled": 1,
    }
    strict = sample_real_work_urls(
        metadata, [LO], others=[SY], credit_forms=["art by {artist}"], style_forms=[], progress=False
    )
    assert strict.works["url"].tolist() == ["u2"]  # "by {artist}" is no longer a credit form
    assert strict.dropped.loc[0, "style_reference"] == 0 and strict.dropped.loc[0, "several_candidates"] == 1


def test_sample_is_seeded_and_extends(planted, tmp_path):
    rows = [
        (f"{'art by' if i % 2 else 'portrait by'} {name} #{i}", f"http://x/{name[0]}{i}.jpg")
        for name in (SY, LO)
        for i in range(12)
    ]
    metadata = _captions(tmp_path / "m.parquet", rows)
    sample = sample_real_work_urls(metadata, [SY, LO, "Nobody Here"], per_artist=3, seed=1, progress=False).works
    assert list(sample.columns) == ["artist", "url", "caption", "form"]
    assert sample.groupby("artist").size().to_dict() == {SY: 3, LO: 3}
    for artist, caption in zip(sample["artist"], sample["caption"], strict=True):
        assert occurs(normalize_text(artist), normalize_text(caption))
    assert sample.equals(
        sample_real_work_urls(metadata, [SY, LO, "Nobody Here"], per_artist=3, seed=1, progress=False).works
    )
    more = sample_real_work_urls(metadata, [SY, LO], per_artist=4, seed=1, progress=False).works
    for artist in (SY, LO):  # a larger sample extends a smaller one
        small = sample.loc[sample.artist == artist, "url"].tolist()
        assert more.loc[more.artist == artist, "url"].tolist()[:3] == small
    other = sample_real_work_urls(metadata, [SY], per_artist=3, seed=2, progress=False).works
    assert len(other) == 3
    planted_sample = sample_real_work_urls(planted, [SY, LO], per_artist=3, seed=1, progress=False)
    assert planted_sample.works["caption"].tolist() == ["portrait by Sam Yang", "loish's painting", "art by loish"]


def _image_bytes(fmt: str, size=(40, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buf, format=fmt)
    return buf.getvalue()


@pytest.fixture
def image_server():
    """A local HTTP server: /good-*.jpg and /big.png are images, /corrupt.jpg is not, anything else is 404."""
    content = {
        "/good-1.jpg": _image_bytes("JPEG"),
        "/good-2.jpg": _image_bytes("JPEG", (64, 64)),
        "/good-3.jpg": _image_bytes("JPEG", (20, 50)),
        "/big.png": _image_bytes("PNG", (900, 600)),
        "/corrupt.jpg": b"\xff\xd8\xff\xe0 this is not a jpeg",
    }

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            body = content.get(self.path)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield functools.partial("http://127.0.0.1:{}{}".format, server.server_address[1])
    server.shutdown()
    server.server_close()


@pytest.mark.slow
def test_download_real_works_local_server(tmp_path, image_server):
    urls = pd.DataFrame(
        {
            "artist": [SY, SY, SY, SY, LO, LO, LO],
            "url": [
                image_server(p)
                for p in (
                    "/good-1.jpg",
                    "/big.png",
                    "/missing.jpg",
                    "/corrupt.jpg",
                    "/good-2.jpg",
                    "/good-3.jpg",
                    "/gone.jpg",
                )
            ],
        }
    )
    out = tmp_path / "real"
    handler = signal.getsignal(signal.SIGINT)
    first = download_real_works(urls, out, image_size=128, threads=4, timeout=5)
    assert signal.getsignal(signal.SIGINT) is handler  # img2dataset's own handler is removed again
    assert first.set_index("artist")[["requested", "already_present", "downloaded", "failed"]].to_dict("index") == {
        SY: {"requested": 4, "already_present": 0, "downloaded": 2, "failed": 2},
        LO: {"requested": 3, "already_present": 0, "downloaded": 2, "failed": 1},
    }
    errors = first.set_index("artist")["errors"]
    assert "404" in errors[SY] and "decod" in errors[SY].lower() and "404" in errors[LO]
    sy_files = sorted(p.name for p in (out / slug(SY)).iterdir())
    assert sy_files == ["000000.jpg", "000001.jpg"]
    assert sorted(p.name for p in (out / slug(LO)).iterdir()) == ["000000.jpg", "000001.jpg"]
    with Image.open(out / slug(SY) / "000001.jpg") as img:  # big.png, shorter side resized down to 128
        assert img.format == "JPEG" and min(img.size) == 128
    with Image.open(out / slug(LO) / "000001.jpg") as img:  # small images are not enlarged
        assert img.size == (20, 50)
    assert not [p for p in out.iterdir() if p.name.startswith(".img2dataset")]  # temporary folder removed

    second = download_real_works(urls, out, image_size=128, threads=4, timeout=5)
    assert second["downloaded"].tolist() == [0, 0]
    assert second["already_present"].tolist() == [2, 2]
    assert second["failed"].tolist() == [2, 1]
    assert sorted(p.name for p in (out / slug(SY)).iterdir()) == sy_files
    manifest = pd.read_csv(out / "manifest.csv")
    assert len(manifest) == 7 and manifest["file"].is_unique


def test_download_real_works_nothing_to_fetch(tmp_path):
    """Files named in the manifest and present are not fetched (img2dataset is not even started)."""
    out = tmp_path / "real"
    (out / slug(SY)).mkdir(parents=True)
    Image.new("RGB", (8, 8)).save(out / slug(SY) / "000000.jpg")
    pd.DataFrame({"artist": [SY], "url": ["http://127.0.0.1:9/x.jpg"], "file": [f"{slug(SY)}/000000.jpg"]}).to_csv(
        out / "manifest.csv", index=False
    )
    table = download_real_works(pd.DataFrame({"artist": [SY], "url": ["http://127.0.0.1:9/x.jpg"]}), out)
    assert table[["requested", "already_present", "downloaded", "failed", "duplicates"]].iloc[0].tolist() == [
        1,
        1,
        0,
        0,
        0,
    ]
    with pytest.raises(AuditError, match="no 'url' column"):
        download_real_works(pd.DataFrame({"artist": [SY]}), out)


def test_download_records_the_drops_and_lists_works_of_two_artists(tmp_path):
    """The sampler's caption drops are written for stage 01 to report, and a downloaded work that is another
    artist's too is listed (stage 01 drops it); nothing is fetched when every file is present."""
    out = tmp_path / "real"
    rng = np.random.default_rng(0)
    image = Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8))
    rows = []
    for artist, url in ((SY, "http://127.0.0.1:9/a.jpg"), (LO, "http://127.0.0.1:9/b.jpg")):
        (out / slug(artist)).mkdir(parents=True)
        image.save(out / slug(artist) / "000000.jpg", quality=90 if artist == SY else 70)
        rows.append({"artist": artist, "url": url, "file": f"{slug(artist)}/000000.jpg"})
    pd.DataFrame(rows).to_csv(out / "manifest.csv", index=False)
    dropped = pd.DataFrame({"artist": [SY, LO], "mentions": [3, 1], "style_reference": [2, 0]})
    works = (
        pd.DataFrame(rows)
        .drop(columns="file")
        .assign(caption=["art by Sam Yang", "art by Loish"], form="art by {artist}")
    )
    table = download_real_works(works, out, dropped=dropped)
    assert table["duplicates"].tolist() == [1, 1]
    listed = pd.read_csv(out / "duplicates.csv")
    assert set(listed["artist"]) == {SY, LO} and set(listed["kind"]) == {"near"}
    assert read_caption_drops(out).equals(dropped)
