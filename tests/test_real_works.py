"""Real works folders (stage 01's scan, helpers.imagefiles' checks): found by name or slug in any Unicode
normal form, sampled reproducibly, every bad file caught by name, each work's origin said, and a work filed
under two artists dropped from both and listed."""

import io
import json
import os
import unicodedata

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from helpers.errors import AuditError
from helpers.imagefiles import MAX_PIXELS, check_image
from helpers.names import name_folder, slug
from helpers.selection import scan_real_works


def png(path, size=(16, 16), color=(200, 30, 30)):
    """A noise image seeded by ``color`` and ``size`` (flat images would all share one perceptual hash)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([*color, *size])
    Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)).save(path)
    return path


def bomb_png(path):
    """A PNG whose header claims more pixels than MAX_PIXELS but whose file is tiny."""
    side = int(MAX_PIXELS**0.5) + 10
    buf = io.BytesIO()
    Image.new("1", (side, side)).save(buf, format="PNG")
    path.write_bytes(buf.getvalue())
    return path


def test_good_images_pass_and_bad_ones_say_why(tmp_path):
    good = png(tmp_path / "a" / "good.png")
    assert check_image(good) is None
    empty = tmp_path / "a" / "empty.png"
    empty.write_bytes(b"")
    assert "empty" in check_image(empty)
    trunc = tmp_path / "a" / "trunc.png"
    trunc.write_bytes(good.read_bytes()[:40])
    assert "truncated or corrupt" in check_image(trunc) or "corrupt" in check_image(trunc)
    junk = tmp_path / "a" / "junk.jpg"
    junk.write_bytes(os.urandom(500))
    assert "corrupt" in check_image(junk)
    text = tmp_path / "a" / "notes.txt"
    text.write_text("hello")
    assert "not an image file" in check_image(text)
    assert "decompression bomb" in check_image(bomb_png(tmp_path / "a" / "bomb.png"))


def test_symlink_outside_the_folder_is_refused(tmp_path):
    outside = png(tmp_path / "secret.png")
    folder = tmp_path / "real" / "Loish"
    png(folder / "ok.png")
    (folder / "link.png").symlink_to(outside)
    assert "outside" in check_image(folder / "link.png", folder=folder)
    (folder / "inside.png").symlink_to(folder / "ok.png")
    assert check_image(folder / "inside.png", folder=folder) is None


def test_scan_by_name_or_slug_sample_and_exclusions(tmp_path):
    root = tmp_path / "real"
    for i in range(5):
        png(root / "Loish" / f"{i}.png", color=(i, 0, 0))
    for i in range(2):
        png(root / slug("AC/DC") / f"{i}.jpg", color=(0, i, 1))
    (root / "Sam Yang").mkdir()
    works, excluded, skipped, duplicates = scan_real_works(
        root, ["Loish", "AC/DC", "Sam Yang", "Nobody"], max_works=3, seed=1
    )
    assert works.groupby("artist").size().to_dict() == {"Loish": 3, "AC/DC": 2}
    assert set(excluded["artist"]) == {"Sam Yang", "Nobody"}
    assert excluded.set_index("artist").loc["Nobody", "reason"] == "no folder"
    again = scan_real_works(root, ["Loish", "AC/DC", "Sam Yang", "Nobody"], max_works=3, seed=1)[0]
    assert works.equals(again)
    assert skipped.empty and duplicates.empty
    assert set(works["origin"]) == {"folder"} and (works["url"] == "").all()


def test_bad_file_stops_the_scan_with_file_and_fix_unless_skipping(tmp_path):
    root = tmp_path / "real"
    png(root / "Loish" / "a.png")
    (root / "Loish" / "b.png").write_bytes(b"")
    with pytest.raises(AuditError) as err:
        scan_real_works(root, ["Loish"])
    text = str(err.value)
    assert "b.png" in text and "Loish" in text and "skip_bad_files" in text and "\n" not in text
    works, _, skipped, _ = scan_real_works(root, ["Loish"], skip_bad_files=True)
    assert len(works) == 1 and skipped["path"].str.endswith("b.png").all()


def test_missing_root_and_ambiguous_folders(tmp_path):
    with pytest.raises(AuditError, match="does not exist"):
        scan_real_works(tmp_path / "nope", ["Loish"])
    root = tmp_path / "real"
    png(root / "Loish" / "a.png")
    png(root / slug("Loish") / "b.png")
    with pytest.raises(AuditError, match="two real-works folders"):
        scan_real_works(root, ["Loish"])


@pytest.mark.parametrize("form", ["NFC", "NFD"])
def test_artist_folders_are_found_in_any_normal_form(tmp_path, form):
    """macOS writes folder names in NFD: "Stålenhag" decomposed is still Stålenhag's folder, whichever form
    the artists file uses."""
    root = tmp_path / "real"
    name = "Simon Stålenhag"
    png(root / unicodedata.normalize(form, name) / "a.png")
    png(root / unicodedata.normalize(form, "Zoë Café") / "b.png", color=(1, 2, 3))
    for spelt in (unicodedata.normalize("NFC", name), unicodedata.normalize("NFD", name)):
        assert name_folder(root, spelt) is not None
    works, excluded, _, _ = scan_real_works(root, [name, "Zoë Café"])
    assert works["artist"].tolist() == [name, "Zoë Café"] and excluded.empty
    png(root / unicodedata.normalize("NFD" if form == "NFC" else "NFC", name) / "c.png", color=(4, 5, 6))
    with pytest.raises(AuditError, match="two real-works folders"):
        scan_real_works(root, [name])


def test_a_work_of_two_artists_is_dropped_from_both_and_listed(tmp_path):
    """The same image under two artists (byte for byte, or re-encoded as JPEG at another size) is nobody's:
    every copy is dropped and listed with the copy it matches; duplicates within one artist stay."""
    root = tmp_path / "real"
    for i in range(3):
        png(root / "Loish" / f"{i}.png", size=(64, 64), color=(i, 9, 9))
        png(root / "Sam Yang" / f"{i}.png", size=(64, 64), color=(i, 7, 7))
    png(root / "Ross Tran" / "0.png", size=(64, 64), color=(0, 5, 5))
    (root / "Sam Yang" / "copy.png").write_bytes((root / "Loish" / "0.png").read_bytes())
    with Image.open(root / "Loish" / "1.png") as img:
        img.resize((48, 48)).save(root / "Ross Tran" / "reencoded.jpg", quality=80)
    (root / "Ross Tran" / "own-copy.png").write_bytes((root / "Ross Tran" / "0.png").read_bytes())
    works, excluded, _, duplicates = scan_real_works(root, ["Loish", "Sam Yang", "Ross Tran"])
    listed = {(r.artist, os.path.basename(r.path), r.kind, r.other_artist) for r in duplicates.itertuples()}
    assert listed == {
        ("Loish", "0.png", "exact", "Sam Yang"),
        ("Sam Yang", "copy.png", "exact", "Loish"),
        ("Loish", "1.png", "near", "Ross Tran"),
        ("Ross Tran", "reencoded.jpg", "near", "Loish"),
    }
    assert duplicates.loc[duplicates["kind"] == "near", "distance"].between(1, 4).all()
    kept = works.groupby("artist")["path"].apply(lambda p: sorted(os.path.basename(x) for x in p)).to_dict()
    assert kept == {"Loish": ["2.png"], "Sam Yang": ["0.png", "1.png", "2.png"], "Ross Tran": ["0.png", "own-copy.png"]}
    assert excluded.empty
    only = scan_real_works(root, ["Loish", "Sam Yang"], min_works=3)[1]  # Ross Tran left out: 1.png is Loish's again
    assert only["reason"].tolist() == ["2 usable real works (needs 3); 1 dropped as another artist's too"]


def test_each_work_says_where_it_came_from(tmp_path):
    """Downloaded works (in the download manifest) are metadata-sampled, with their URL, caption and form; the
    folder's origin.json names the others' origin; without it they are a user's folder."""
    root = tmp_path / "real"
    png(root / slug("Loish") / "000000.jpg", color=(1, 1, 1))
    png(root / slug("Loish") / "mine.png", color=(2, 2, 2))
    pd.DataFrame(
        {
            "artist": ["Loish"],
            "url": ["http://x/1.jpg"],
            "file": [f"{slug('Loish')}/000000.jpg"],
            "caption": ["art by Loish"],
            "form": ["art by {artist}"],
        }
    ).to_csv(root / "manifest.csv", index=False)
    works = scan_real_works(root, ["Loish"])[0].set_index("path")
    by_file = {os.path.basename(p): row for p, row in works.iterrows()}
    assert by_file["000000.jpg"][["origin", "url", "caption", "form"]].tolist() == [
        "metadata",
        "http://x/1.jpg",
        "art by Loish",
        "art by {artist}",
    ]
    assert by_file["mine.png"][["origin", "url"]].tolist() == ["folder", ""]
    (root / "origin.json").write_text(json.dumps({"origin": "toyworld"}))
    assert sorted(scan_real_works(root, ["Loish"])[0]["origin"]) == ["metadata", "toyworld"]
    (root / "origin.json").write_text(json.dumps({"origin": "somewhere"}))
    with pytest.raises(AuditError, match="does not name an origin"):
        scan_real_works(root, ["Loish"])
