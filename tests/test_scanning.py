"""The fast caption scanner (helpers.captions.fold, helpers.captions.matcher, helpers.metadata's worker
threads) against the plain rule: the batch fold equals normalize_text caption by caption, and the counts do not
depend on the number of workers, files, row groups or batches, with mostly non-ASCII captions and a score
threshold; a failing worker stops the scan with an AuditError."""

from __future__ import annotations

import subprocess
import sys
import unicodedata

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_selection import _random_captions, _reference_counts

from helpers.captions import Matcher, normalize_text
from helpers.captions.fold import ASCII_TABLE, char_kind, fold
from helpers.errors import AuditError
from helpers.metadata import count_mentions, sample_real_work_urls
from helpers.paths import PROJECT_ROOT

# ----------------------------------------------------------------------------- the fold

# characters of many kinds: accented and capital letters of several scripts, CJK, kana, Hangul syllables and
# jamo, combining marks, ligatures, full-width and compatibility forms, quotes and dashes, spaces, controls
POOL = list(
    "aZ09 _'`\"-.,#!éÉèüÜßẞøØłŁæÆœþðıİŉǆǅﬁﬀ½²™…°€ΣσςΑάΐЁёЖжИй新海誠風景がガｶﾞ가힣각"
    "ＡＢｃ１＇｀´″‘’“”‐–—−\u00a0\u2007\u3000\u2028\u200b\u00ad\t\n\r\x0b\x0c\x1c\x1f\x00\x07\x7f\x85"
    "\u0301\u0308\u0327\u3099\u309a\u0345\u05b0\u0e31\u0e48ไทย한국어"
) + ["😀", "𠀀", "\U0001d400"]


def _fold_texts(captions: list[str], *, full: bool) -> tuple[list[bytes], set[int]]:
    arr = pa.array(captions, type=pa.string())
    _, offsets_buf, data_buf = arr.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=np.int32)[: len(arr) + 1].astype(np.int64)
    data = np.frombuffer(data_buf, dtype=np.uint8)[: offsets[-1]] if data_buf else np.empty(0, np.uint8)
    text, out, slow = fold(data, offsets, full=full)
    raw = text.tobytes()
    return [raw[out[i] : out[i + 1]] for i in range(len(captions))], set(slow.tolist())


def test_fold_equals_the_rule_caption_by_caption():
    rng = np.random.default_rng(0)
    captions = ["".join(rng.choice(POOL, size=int(rng.integers(0, 12)))) for _ in range(20_000)]
    folded, slow = _fold_texts(captions, full=True)
    assert 0.05 * len(captions) < len(slow) < 0.9 * len(captions)  # both paths are exercised
    for i, (caption, got) in enumerate(zip(captions, folded, strict=True)):
        if i in slow:
            assert any(char_kind(ord(c))[0] == 3 for c in caption)  # slow only for a reason
        else:
            assert got.decode("utf-8").strip(" ") == normalize_text(caption), repr(caption)


def test_fold_keeps_ascii_as_is_unless_full():
    captions = ["Sam  YANG`s\tart", "plain ascii", "Stålenhag’s ART"]
    partial, _ = _fold_texts(captions, full=False)
    assert partial == [b"Sam  YANG`s\tart", b"plain ascii", b"Stalenhag's ART"]
    full, _ = _fold_texts(captions, full=True)
    assert full == [b"sam yang's art", b"plain ascii", b"stalenhag's art"]


def test_ascii_table_is_the_rule_for_every_ascii_character():
    for code in range(128):
        expected = normalize_text(chr(code)) or " "  # whitespace and controls: a separator
        assert chr(ASCII_TABLE[code]) == expected, code


def test_compositions_join_only_marks_and_hangul_jamo():
    """The fold's premise, checked on this Python's Unicode data: every character that a canonical
    composition joins to the one before it is a mark (or a Hangul vowel or trailing consonant)."""
    seconds = set()
    for code in range(0x110000):
        if 0xD800 <= code < 0xE000:
            continue
        parts = unicodedata.decomposition(chr(code)).split()
        if len(parts) == 2 and not parts[0].startswith("<"):
            seconds.add(int(parts[1], 16))
    assert seconds and all(unicodedata.category(chr(c))[0] == "M" for c in seconds)


# ----------------------------------------------------------------------------- workers, files, row groups

NAMES = [
    "Sam Yang",
    "Loish",
    "Simon Stålenhag",
    "Jim O'Neil",
    "Ross Tran",
    "新海誠",
    "Илья Кувшинов",
    "Greg Rutkowski",
    "Rutkowski",
    "Zoë Bäcker",
    "Art",
    "O'Neil",
]


def _intl_captions(rng: np.random.Generator, n: int) -> list[str | None]:
    """Mostly non-ASCII captions: accents, capitals, curly quotes, CJK and Cyrillic words, names in many
    spellings, a few combining marks and control characters."""
    spellings = []
    for name in NAMES:
        spellings += [name, name.upper(), unicodedata.normalize("NFD", name), name.replace("'", "\u2019")]
    spellings += ["SIMON STALENHAG", "zoe backer", "ZOË BÄCKERS", "Илья Кувшиновa", "新海誠の", "jim o`neil"]
    words = [
        "été",
        "Schöne",
        "niño",
        "ÇA",
        "“art”",
        "l’été",
        "風景",
        "写真",
        "москва",
        "ПОРТРЕТ",
        "ß",
        "œuvre",
        "art",
        "by",
        "of",
        "2024",
        "Ｆｕｌｌ",
        "½",
        "—",
        "…",
    ]
    glue = [" ", " ", ", ", "  ", "\t", "-", "_", "の", "\u00a0", "(", ")", "'s "]
    out: list[str | None] = []
    for _ in range(n):
        if rng.random() < 0.02:
            out.append(None)
            continue
        parts = []
        for _ in range(int(rng.integers(1, 9))):
            src = spellings if rng.random() < 0.3 else words
            parts += [src[int(rng.integers(len(src)))], glue[int(rng.integers(len(glue)))]]
        out.append("".join(parts))
    return out


def _write(folder, captions, scores, *, n_files=3, row_group_size=97):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n_files):
        part = slice(i, None, n_files)
        table = pa.table(
            {
                "TEXT": pa.array(captions[part], type=pa.string()),
                "URL": [f"http://127.0.0.1/{j % 50}.jpg" for j in range(len(captions[part]))],  # repeated
                "SCORE": pa.array(scores[part], type=pa.float64()),
            }
        )
        pq.write_table(table, folder / f"part-{i}.parquet", row_group_size=row_group_size)
    return folder


@pytest.fixture(scope="module")
def intl(tmp_path_factory):
    rng = np.random.default_rng(7)
    captions = _intl_captions(rng, 3_000) + _random_captions(rng, 1_000, NAMES)
    scores = rng.uniform(4, 8, size=len(captions))
    scores[rng.random(len(captions)) < 0.05] = np.nan
    folder = _write(tmp_path_factory.mktemp("intl"), captions, scores.tolist())
    return folder, captions, scores


def test_counts_do_not_depend_on_workers_files_or_batches(intl):
    folder, captions, _ = intl
    assert sum(c is not None and not c.isascii() for c in captions) > len(captions) / 2
    assert len(pq.read_metadata(folder / "part-0.parquet").row_group(0).to_dict()) and (
        pq.read_metadata(folder / "part-0.parquet").num_row_groups > 5
    )
    expected = _reference_counts(captions, NAMES)
    assert min(expected) > 0
    for workers, batch_size in [(1, 131_072), (2, 131_072), (2, 50), (3, 7)]:
        got = count_mentions(folder, NAMES, workers=workers, batch_size=batch_size, progress=False)
        assert got["caption_count"].tolist() == expected, (workers, batch_size)
        assert got.attrs["captions_scanned"] == sum(c is not None for c in captions)


def test_score_threshold_with_workers_and_nan_in_one_file(intl, tmp_path):
    folder, captions, scores = intl
    kept = [c if s >= 6 else None for c, s in zip(captions, scores, strict=True)]  # NaN fails too
    expected = _reference_counts(kept, NAMES)
    for workers in (1, 2):
        got = count_mentions(folder, NAMES, score_column="SCORE", min_score=6, workers=workers, progress=False)
        assert got["caption_count"].tolist() == expected
    # a single file whose statistics leave the NaN out: DuckDB must still see it
    single = tmp_path / "one.parquet"
    pq.write_table(pa.table({"TEXT": ["loish", "loish", "loish"], "SCORE": [7.0, float("nan"), None]}), single)
    assert count_mentions(single, ["Loish"], score_column="SCORE", min_score=6, progress=False)[
        "caption_count"
    ].tolist() == [1]


def test_url_sample_does_not_depend_on_workers(intl):
    folder, _, _ = intl
    one = sample_real_work_urls(folder, NAMES[:2], per_artist=5, seed=3, workers=1, progress=False)
    two = sample_real_work_urls(folder, NAMES[:2], per_artist=5, seed=3, workers=2, progress=False)
    assert one.dropped["mentions"].sum() > 20 and one.dropped["credited"].sum() > 0
    assert one.works.equals(two.works) and one.dropped.equals(two.dropped)  # each URL keeps its first row's caption


def test_matcher_directly_with_chunked_and_sliced_arrays(monkeypatch):
    matcher = Matcher(["Loish", "Sam Yang"])
    arr = pa.chunked_array([["x", "SAM\tYANG"], ["loish’s", "Lóish"]])
    rows, pids = matcher.find(arr)
    assert list(zip(rows.tolist(), pids.tolist(), strict=True)) == [(1, 1), (2, 0), (3, 0)]
    rows, _ = matcher.find(pa.array(["a", "b", "sam yang", "loish"]).slice(2))
    assert rows.tolist() == [0, 1]
    captions = pa.array(["by loish", "x", "Sam  Yang", "é", "lo ish", "LOISH`s"] * 5)
    whole = matcher.find(captions)
    monkeypatch.setattr("helpers.captions.matcher._SLICE", 4)  # a batch is matched a few captions at a time
    sliced = matcher.find(captions)
    assert all((a == b).all() for a, b in zip(whole, sliced, strict=True)) and len(whole[0]) == 15


def test_units_group_row_groups_of_one_file():
    from helpers.metadata.parquet import ParquetFile
    from helpers.metadata.reading import units

    files = [
        ParquetFile("a", (100, 100, 100, 50), ("TEXT",)),
        ParquetFile("b", (30,), ("TEXT",)),
        ParquetFile("c", (10, 10), ("TEXT", "file_row_number")),
    ]
    got = [(u.path, u.start, u.stop, u.whole) for u in units(files, 150)]
    assert got == [("a", 0, 200, False), ("a", 200, 350, False), ("b", 0, 30, True), ("c", 0, 20, True)]
    assert [(u.start, u.stop) for u in units(files[:1])] == [(0, 100), (100, 200), (200, 300), (300, 350)]
    assert units(files[:1], 1000)[0].whole


# ----------------------------------------------------------------------------- failures


def _corrupt(path):
    """Overwrite the middle of the last row group's data: the footer still reads, the data does not."""
    column = pq.read_metadata(path).row_group(pq.read_metadata(path).num_row_groups - 1).column(0)
    start = column.dictionary_page_offset if column.has_dictionary_page else column.data_page_offset
    data = bytearray(path.read_bytes())
    middle = start + column.total_compressed_size // 2
    data[middle : middle + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))


def _loish_files(tmp_path, files: int, rows: int, row_group_size: int):
    """``files`` parquet files ``part-<i>.parquet`` of ``rows`` captions naming Loish, in row groups."""
    folder = tmp_path / "meta"
    folder.mkdir()
    for i in range(files):
        captions = [f"caption {j} by loish" for j in range(rows)]
        pq.write_table(pa.table({"TEXT": captions}), folder / f"part-{i}.parquet", row_group_size=row_group_size)
    return folder


def test_a_failing_worker_raises_an_audit_error(tmp_path):
    folder = _loish_files(tmp_path, files=4, rows=4_000, row_group_size=1_000)
    _corrupt(folder / "part-2.parquet")
    for workers in (1, 2):
        with pytest.raises(AuditError, match=r"part-2\.parquet( \(rows [\d,]+ to 3,999\))?: DuckDB could not read"):
            count_mentions(folder, ["Loish"], workers=workers, progress=False)
        with pytest.raises(AuditError, match=r"part-2\.parquet"):
            sample_real_work_urls(folder, ["Loish"], url_column="TEXT", workers=workers, progress=False)


def test_an_unexpected_error_in_a_worker_names_the_rows(tmp_path, monkeypatch):
    folder = _loish_files(tmp_path, files=3, rows=3_000, row_group_size=1_000)
    calls = []

    def broken(self, captions):
        calls.append(1)
        if len(calls) == 4:
            raise RuntimeError("boom")
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)

    monkeypatch.setattr(Matcher, "find", broken)
    with pytest.raises(AuditError, match=r"\(rows [\d,]+ to [\d,]+\): scanning failed \(RuntimeError: boom\)"):
        count_mentions(folder, ["Loish"], workers=2, progress=False)
    assert len(calls) <= 5  # of 6 units: the other worker stopped after its current one


def test_cli_reports_a_corrupt_file_in_one_line(tmp_path):
    folder = _loish_files(tmp_path, files=2, rows=2_000, row_group_size=500)
    _corrupt(folder / "part-1.parquet")
    artists = tmp_path / "artists.csv"
    pd.DataFrame({"artist": ["Loish"], "alive": True, "online_presence": True}).to_csv(artists, index=False)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "helpers.selection",
            "--metadata",
            folder,
            "--artists",
            artists,
            "--out",
            tmp_path / "out.csv",
            "--workers",
            "2",
            "--no-progress",
        ],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "part-1.parquet (rows 1,500 to 1,999)" in done.stderr and "DuckDB could not read" in done.stderr
