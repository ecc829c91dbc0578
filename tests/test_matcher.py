"""The matcher's fast paths against the plain rule: the batched normalisation, batches mostly ASCII and mostly
not (short captions sharing 8-byte words with non-ASCII ones), and the cached Hyperscan database."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from helpers import paths as _paths
from helpers.captions import Matcher, normalize_text, occurs
from helpers.captions.rule import normalize_texts

NAMES = [f"Sam Yang{i}" for i in range(300)] + ["Stålenhag", "Loish", "Ross Tran"]
WORDS = ["sam", "yang7", "SAM YANG12", "loish", "LOISH’s", "stalenhag", "Stålenhag", "ross", "tran", "é", "風景"]
WORDS += ["", " ", "  ", "\t", "`", "½", "a", "Ross Tranquility", "x\u0301", "\u00a0"]


def _captions(rng: np.random.Generator, n: int, non_ascii: float) -> list[str]:
    out = []
    for _ in range(n):
        words = [str(w) for w in rng.choice(WORDS, size=int(rng.integers(0, 5)))]
        if rng.random() > non_ascii:
            words = [w for w in words if w.isascii()]
        out.append(" ".join(words))
    return out


def _by_rule(captions: list[str], names: list[str]) -> set[tuple[int, int]]:
    patterns = [normalize_text(n) for n in names]
    texts = [normalize_text(c) for c in captions]
    return {
        (r, p) for r, text in enumerate(texts) for p, pat in enumerate(patterns) if pat in text and occurs(pat, text)
    }


def _found(matcher: Matcher, captions: list[str]) -> set[tuple[int, int]]:
    rows, pids = matcher.find(pa.array(captions, type=pa.string()))
    return set(zip(rows.tolist(), pids.tolist(), strict=True))


def test_normalize_texts_is_normalize_text_of_each():
    texts = ["", "a\x00b", "  Stålenhag’s  ART ", "\x07x\u0301", "½", "ﬁ\u00a0風景", "\x00"]
    assert normalize_texts(texts) == [normalize_text(t) for t in texts]
    assert normalize_texts([]) == []


def test_batches_mostly_ascii_and_mostly_not_match_the_rule():
    rng = np.random.default_rng(0)
    matcher = Matcher(NAMES)
    for share in (0.02, 0.5, 1.0):  # below and above the quarter where the first pass changes
        captions = _captions(rng, 3_000, share)
        assert _found(matcher, captions) == _by_rule(captions, NAMES), share


def test_the_cached_database_finds_the_same(tmp_path, monkeypatch):
    monkeypatch.setattr(_paths, "CACHE_DIR", tmp_path)
    captions = _captions(np.random.default_rng(1), 2_000, 0.1)
    expected = _found(Matcher(NAMES), captions)  # compiled and written
    (cached,) = (tmp_path / "hyperscan").iterdir()
    assert _found(Matcher(NAMES), captions) == expected  # read back
    cached.write_bytes(cached.read_bytes()[:1_000])  # damaged: compiled again
    assert _found(Matcher(NAMES), captions) == expected
    assert _found(Matcher(NAMES[:10]), captions) == {(r, p) for r, p in expected if p < 10}  # few: not cached
    assert len(list((tmp_path / "hyperscan").iterdir())) == 1
