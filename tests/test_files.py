"""The ground floor (helpers.files): atomic writes, tables that keep their text, one hash of each kind."""

import hashlib
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
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
    table = pd.DataFrame(
        {"artist": ["NA", "1984", "1984"], "kind": ["own", "own", "other"], "similarity": [0.5, 0.25, -0.125]}
    )
    files.write_table(table, paths.table("own_other.csv"))
    back = validation.read_own_other(paths)
    assert back["artist"].tolist() == ["NA", "1984", "1984"]
    assert back["similarity"].tolist() == [0.5, 0.25, -0.125]


def test_columns_read_back_each_kind_and_refuse_what_is_not(tmp_path):
    kinds = files.Columns(name="text", n="int", m="int?", x="float", ok="bool", flag="bool?")
    path = tmp_path / "t.csv"
    files.write_table(
        pd.DataFrame(
            {
                "name": ["1984", "NA"],
                "n": [3, 4],
                "m": [pd.NA, 7],
                "x": [0.5, float("nan")],
                "ok": [True, False],
                "flag": pd.array([True, pd.NA], dtype="boolean"),
            }
        ),
        path,
    )
    back = files.read_table(path, columns=kinds)
    assert back["name"].tolist() == ["1984", "NA"] and back["n"].dtype == np.int64 and back["n"].tolist() == [3, 4]
    assert back["m"].dtype == "Int64" and back["m"].isna().tolist() == [True, False] and back["m"][1] == 7
    assert back["x"].dtype == float and back["x"][0] == 0.5 and np.isnan(back["x"][1])
    assert back["ok"].dtype == bool and back["ok"].tolist() == [True, False]
    assert back["flag"].dtype == "boolean" and back["flag"][0] and back["flag"].isna()[1]
    assert list(kinds) == ["name", "n", "m", "x", "ok", "flag"]  # the names, in order, for writing
    path.write_text("name,n,m,x,ok,flag\na,1,,0.1,yes,\n")
    with pytest.raises(AuditError, match="column 'ok' is not bool"):
        files.read_table(path, columns=kinds)
    path.write_text("name,n,m,x,ok,flag\na,,,0.1,True,\n")
    with pytest.raises(AuditError, match="column 'n' is not int"):
        files.read_table(path, columns=kinds)
    with pytest.raises(ValueError, match="unknown column kind"):
        files.Columns(a="number")


def _declared_columns():
    """Every product's declared columns in the package (module-level :class:`helpers.files.Columns`)."""
    import importlib
    import pkgutil

    import helpers

    found = {}
    for info in pkgutil.walk_packages(helpers.__path__, "helpers."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if isinstance(value, files.Columns):
                found.setdefault(id(value), (f"{info.name}.{name}", value))
    return sorted(found.values())


def test_every_declared_product_reads_back_typed(tmp_path):
    """Each product's declaration: a row written as a stage writes it (a name that looks like a number or a
    missing value, numbers, booleans) comes back as the declared kinds — no reader needs a hand conversion."""
    sample = {"text": "NA", "int": 3, "int?": 5, "float": 0.25, "bool": True, "bool?": False}
    declared = _declared_columns()
    assert len(declared) >= 15, [n for n, _ in declared]  # the stages' products are declared
    for name, columns in declared:
        path = tmp_path / f"{name}.csv"
        files.write_table(pd.DataFrame([{c: sample[k] for c, k in columns.kinds.items()}]), path)
        back = files.read_table(path, columns=columns)
        for column, kind in columns.kinds.items():
            value = back[column].iloc[0]
            assert value == sample[kind] and (kind != "text" or isinstance(value, str)), (name, column, kind, value)
