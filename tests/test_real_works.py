"""Real works folders (stage 01's scan, helpers.imagefiles' checks): found by name or slug, sampled
reproducibly, and every bad file caught by name."""

import io
import os

import pytest
from PIL import Image

from helpers.errors import AuditError
from helpers.imagefiles import MAX_PIXELS, check_image
from helpers.names import slug
from helpers.selection import scan_real_works


def png(path, size=(16, 16), color=(200, 30, 30)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, color).save(path)
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
        png(root / slug("AC/DC") / f"{i}.jpg", color=(0, i, 0))
    (root / "Sam Yang").mkdir()
    works, excluded, skipped = scan_real_works(root, ["Loish", "AC/DC", "Sam Yang", "Nobody"], max_works=3, seed=1)
    assert works.groupby("artist").size().to_dict() == {"Loish": 3, "AC/DC": 2}
    assert set(excluded["artist"]) == {"Sam Yang", "Nobody"}
    assert excluded.set_index("artist").loc["Nobody", "reason"] == "no folder"
    again, _, _ = scan_real_works(root, ["Loish", "AC/DC", "Sam Yang", "Nobody"], max_works=3, seed=1)
    assert works.equals(again)
    assert skipped.empty


def test_bad_file_stops_the_scan_with_file_and_fix_unless_skipping(tmp_path):
    root = tmp_path / "real"
    png(root / "Loish" / "a.png")
    (root / "Loish" / "b.png").write_bytes(b"")
    with pytest.raises(AuditError) as err:
        scan_real_works(root, ["Loish"])
    text = str(err.value)
    assert "b.png" in text and "Loish" in text and "skip_bad_files" in text and "\n" not in text
    works, _, skipped = scan_real_works(root, ["Loish"], skip_bad_files=True)
    assert len(works) == 1 and skipped["path"].str.endswith("b.png").all()


def test_missing_root_and_ambiguous_folders(tmp_path):
    with pytest.raises(AuditError, match="does not exist"):
        scan_real_works(tmp_path / "nope", ["Loish"])
    root = tmp_path / "real"
    png(root / "Loish" / "a.png")
    png(root / slug("Loish") / "b.png")
    with pytest.raises(AuditError, match="two real-works folders"):
        scan_real_works(root, ["Loish"])
