"""The package's layers: every import points down (imports inside functions count), no stage imports another
stage, no file of the package is over 600 lines. The layer map below is the README's "Architecture"."""

import ast
import re
from pathlib import Path

import pytest

import helpers
from helpers.paths import PROJECT_ROOT

PACKAGE = Path(helpers.__file__).parent

# Each module's layer, bottom first. A module may import modules of lower layers; within "libraries" the
# order of the list is the order of dependence (a library imports only libraries listed before it).
LAYERS = {
    "ground": ["errors", "paths", "pipeline", "files", "cores", "lock", "paper"],
    "schema": ["schema_types", "specs", "schema"],
    "libraries": [
        "names",
        "captions",
        "metadata",
        "synthetic",
        "works",
        "download",
        "imagefiles",
        "arrays",
        "stats",
        "significance",
        "artist_level",
        "controls",
        "references",
        "exposure",
        "simulation",
        "embeddings",
        "attribution",
        "transforms",
        "plots",
    ],
    "models": ["models", "provenance"],
    "stages": ["selection", "generation", "encoding", "classification", "validation"],
    "top": ["record", "summary", "comparison", "report", "score", "explore", "runner", "course", "toyworld"],
}
ENTRY_POINTS = {"generation.__main__"}
"""Command-line entry points: they compose stages (read one stage's products, run another), like a notebook."""
LIMIT = 600


def _module_of(path: Path) -> str:
    rel = path.relative_to(PACKAGE).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _top(module: str) -> str:
    return module.split(".")[0]


def _rank(module: str) -> tuple[int, int]:
    top = _top(module)
    for level, (_, members) in enumerate(LAYERS.items()):
        if top in members:
            return level, members.index(top)
    raise AssertionError(f"helpers.{module} is in no layer: add it to LAYERS (and to the README's picture)")


def _imports(path: Path) -> set[str]:
    """Every helpers module ``path`` imports, anywhere in the file, as package-relative names."""
    module = _module_of(path)
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
                target = ".".join([*base, *([node.module] if node.module else [])])
            elif (node.module or "").startswith("helpers"):
                target = node.module.removeprefix("helpers").lstrip(".")
            else:
                continue
            names = [f"{target}.{a.name}".strip(".") for a in node.names]
            found |= {n for n in names if _is_module(n)} or {target}
        elif isinstance(node, ast.Import):
            found |= {a.name.removeprefix("helpers.") for a in node.names if a.name.startswith("helpers.")}
    return {m for m in found if m and _top(m) != _top(module)}  # a package's own modules may import each other


def _is_module(name: str) -> bool:
    path = PACKAGE.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


FILES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down(path):
    module = _module_of(path)
    if module == "":  # helpers/__init__.py imports nothing
        assert _imports(path) == set()
        return
    if module in ENTRY_POINTS:
        return
    level, order = _rank(module)
    for target in _imports(path):
        t_level, t_order = _rank(target)
        if level == list(LAYERS).index("stages"):
            assert t_level < level, f"stage helpers.{module} imports stage helpers.{target}"
        elif level == list(LAYERS).index("libraries") and t_level == level:
            assert t_order < order, f"library helpers.{module} imports helpers.{target}, listed after it"
        else:
            assert t_level < level or (t_level == level and t_order < order), (
                f"helpers.{module} ({list(LAYERS)[level]}) imports helpers.{target} ({list(LAYERS)[t_level]})"
            )


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_file_is_over_the_limit(path):
    assert len(path.read_text(encoding="utf-8").splitlines()) <= LIMIT


def test_every_module_has_a_layer():
    top_modules = {_top(_module_of(p)) for p in FILES} - {""}
    placed = {m for members in LAYERS.values() for m in members}
    assert top_modules == placed


def test_the_checker_sees_an_upward_import(tmp_path, monkeypatch):
    """The import finder is not blind: a stage importing another stage, or the schema importing a stage,
    is reported, whether the import sits at the top or inside a function."""
    fake = PACKAGE / "encoding.py"
    text = "def f():\n    from .classification import run_stage\n"
    monkeypatch.setattr(
        Path, "read_text", lambda self, encoding=None: text if self == fake else Path.read_bytes(self).decode()
    )
    assert _imports(fake) == {"classification"}
    with pytest.raises(AssertionError, match="stage helpers.encoding imports stage helpers.classification"):
        test_imports_point_down(fake)


def _readme_picture() -> dict[str, str]:
    """The README's "Architecture" picture: each layer's lines (a layer's name starts its first line)."""
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Architecture", 1)[1]
    block = section.split("```", 2)[1]
    picture: dict[str, str] = {}
    layer = None
    for line in block.splitlines():
        first = line.split(maxsplit=1)[0] if line.strip() else ""
        if not line.startswith(" ") and first in LAYERS:
            layer = first
        if layer:
            picture[layer] = picture.get(layer, "") + " " + line
    return picture


def test_the_readme_picture_is_this_layer_map():
    picture = _readme_picture()
    assert list(picture) == list(reversed(LAYERS)), "the README draws the layers top first"
    missing = [
        f"{layer}: {m}"
        for layer, members in LAYERS.items()
        for m in members
        if not re.search(rf"(?<![\w.]){re.escape(m)}\b", picture[layer])
    ]
    assert missing == [], "add these modules to the README's picture, on their layer's lines"
