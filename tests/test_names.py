"""Names: cleaning, duplicate detection, slugs that stay inside the run folder, the random baseline."""

import re

import pytest

from helpers.errors import AuditError
from helpers.names import clean_name, name_key, random_names, slug, validate_names

UNUSUAL = [
    "AC/DC",
    "..",
    "../../etc/passwd",
    "  Greg   Rutkowski  ",
    "x" * 320,
    "Simon Stålenhag",
    "Simon Stalenhag",
    "Ilya Kuvshinov 🎨",
    "محمد الفنان",
    "שרה כהן",
    "草間彌生",
    ".",
    "-",
]


def test_clean_name_strips_and_collapses():
    assert clean_name("  Greg \u00a0 Rutkowski ") == "Greg Rutkowski"
    # NFC: a decomposed accent equals the composed one
    assert clean_name("Ste\u0301phane") == "Stéphane"


@pytest.mark.parametrize("bad", ["", "   ", "a\x00b", "tab\there", "new\nline", "\x1b[31mred", None, 3])
def test_clean_name_refuses(bad):
    with pytest.raises(AuditError) as err:
        clean_name(bad, where="artists.csv, row 2")
    assert "artists.csv, row 2" in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("name", UNUSUAL)
def test_slug_is_a_safe_single_component(name, tmp_path):
    s = slug(clean_name(name))
    assert re.fullmatch(r"[a-z0-9-]+", s)
    assert s not in (".", "..")
    assert (tmp_path / s).resolve().parent == tmp_path.resolve()
    assert len(s) <= 70


def test_slugs_are_distinct_for_distinct_names():
    names = [clean_name(n) for n in UNUSUAL] + ["AC DC", "ac/dc", "AC-DC", "Sam Yang", "Samyang"]
    slugs = [slug(n) for n in names]
    assert len(set(names)) == len(names)
    assert len(set(slugs)) == len(slugs)
    # accents fold in the readable part but the hash keeps them apart
    assert slug("Simon Stålenhag").startswith("simon-stalenhag-")
    assert slug("Simon Stålenhag") != slug("Simon Stalenhag")


def test_validate_names_refuses_duplicates_after_normalisation():
    with pytest.raises(AuditError, match=r"duplicates row 1"):
        validate_names(["Loish", " LOISH "], where="params/artists.csv")
    with pytest.raises(AuditError, match="empty"):
        validate_names([], where="params/artists.csv")
    assert validate_names(["Loish", "Sam Yang"], where="x") == ["Loish", "Sam Yang"]
    assert name_key("ＬＯＩＳＨ") == name_key("loish")  # full-width letters fold under NFKC


def test_random_names_reproducible_distinct_and_not_artists():
    a = random_names(30, seed=7)
    assert a == random_names(30, seed=7)
    assert a != random_names(30, seed=8)
    assert len({name_key(n) for n in a}) == 30
    b = random_names(30, seed=7, exclude=a[:5])
    assert not {name_key(n) for n in a[:5]} & {name_key(n) for n in b}
