"""The ground floor (helpers.files): atomic writes, tables that keep their text, one hash of each kind."""

import hashlib
import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from helpers import files
from helpers.errors import AuditError
from helpers.paths import PROJECT_ROOT


def test_tables_keep_names_that_look_like_missing_values(tmp_path):
    df = pd.DataFrame({"artist": ["NA", "None", "nan", "null", ""]})
    files.write_table(df, tmp_path / "t.csv")
    assert files.read_table(tmp_path / "t.csv")["artist"].tolist() == ["NA", "None", "nan", "null", ""]


def test_read_table_names_the_missing_file_and_columns(tmp_path):
    with pytest.raises(AuditError, match="t.csv does not exist.*run the stage that writes it first \\(03_encoding\\)"):
        files.read_table(tmp_path / "t.csv", needs="03_encoding")
    files.write_table(pd.DataFrame({"a": [1]}), tmp_path / "t.csv")
    with pytest.raises(AuditError, match=r"lacks the column\(s\) \['b'\]"):
        files.read_table(tmp_path / "t.csv", columns=("a", "b"))


def test_atomic_write_leaves_no_temporary_files(tmp_path):
    files.write_json(tmp_path / "a" / "x.json", {"k": 1})
    assert json.loads((tmp_path / "a" / "x.json").read_text()) == {"k": 1}
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["x.json"]
    files.atomic_write_bytes(tmp_path / "a" / "y.bin", b"ok", fixed_temp=True)
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["x.json", "y.bin"]


def test_fixed_temp_name_is_overwritten_after_a_kill(tmp_path):
    """A writer killed mid-write leaves ``.<name>.tmp``, never half a ``<name>``; the next write of that path
    reuses (and removes) the same temporary file."""
    target, marker = tmp_path / "img.png", tmp_path / "writing"
    code = (
        "import os, pathlib, sys, time\n"
        "from helpers import files\n"
        "os.fsync = lambda fd: (pathlib.Path(sys.argv[2]).touch(), time.sleep(60))  # stop mid-write\n"
        "files.atomic_write_bytes(pathlib.Path(sys.argv[1]), b'x' * 1000, fixed_temp=True)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, str(target), str(marker)], cwd=PROJECT_ROOT)
    try:
        for _ in range(1200):
            if marker.exists() or proc.poll() is not None:
                break
            time.sleep(0.05)
        assert marker.exists(), "the writer never reached fsync"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert (tmp_path / ".img.png.tmp").exists() and not target.exists()
    files.atomic_write_bytes(target, b"whole", fixed_temp=True)
    assert target.read_bytes() == b"whole" and not (tmp_path / ".img.png.tmp").exists()


def test_hashes_and_digests_have_known_values(tmp_path):
    assert files.sha256_bytes(b"abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    (tmp_path / "f").write_bytes(b"abc" * 2_000_000)
    assert files.sha256_file(tmp_path / "f") == hashlib.sha256(b"abc" * 2_000_000).hexdigest()
    # canonical JSON: key order does not matter; the digest is of '{"a": 1, "b": [2, 3]}'
    expected = hashlib.sha256(b'{"a": 1, "b": [2, 3]}').hexdigest()
    assert files.json_digest({"b": [2, 3], "a": 1}) == files.json_digest({"a": 1, "b": [2, 3]}) == expected
    assert files.json_digest({"a": 1, "b": [2, 3]}, 12) == expected[:12]


def test_package_versions_names_missing_packages():
    versions = files.package_versions(("pandas", "no-such-package-xyz"))
    assert versions["pandas"] == pd.__version__ and versions["no-such-package-xyz"] is None


def test_stage_readers_keep_names_as_text(tmp_path):
    """A person called "NA" or "1984" stays that text when a stage's table is read back (own_other.csv, read by
    the explorer and by helpers.score through validation.read_own_other)."""
    from helpers import validation
    from helpers.paths import ConfigPaths

    paths = ConfigPaths(tmp_path)
    table = pd.DataFrame({"artist": ["NA", "1984", "1984"], "kind": ["own", "own", "other"], "similarity": [0.5, 0.25, -0.125]})
    files.write_table(table, paths.table("own_other.csv"))
    back = validation.read_own_other(paths)
    assert back["artist"].tolist() == ["NA", "1984", "1984"]
    assert back["similarity"].tolist() == [0.5, 0.25, -0.125]
