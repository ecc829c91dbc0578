"""The README and docs/: one page in front, every link resolving, and the hand-written lists that could drift
(test files, params profiles, make targets, modules, params files named in commands) checked against the files."""

import importlib.util
import re
import shutil
import subprocess
import unicodedata

import pytest

from helpers.paths import PROJECT_ROOT

README = PROJECT_ROOT / "README.md"
PAGES = [README, *sorted((PROJECT_ROOT / "docs").glob("*.md"))]
MAX_README_LINES = 250
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _prose(path) -> str:
    """The page without its fenced code blocks (a link in a code block is not a link)."""
    return re.sub(r"^```.*?^```", "", path.read_text(encoding="utf-8"), flags=re.M | re.S)


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = unicodedata.normalize("NFC", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(path) -> set[str]:
    return {_anchor(m.group(1)) for m in re.finditer(r"^#+ (.+)$", _prose(path), flags=re.M)}


def test_the_readme_is_one_page():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= MAX_README_LINES, f"README.md has {len(lines)} lines; move detail into docs/"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_relative_link_points_to_an_existing_file_and_heading(page):
    broken = []
    for target in LINK.findall(_prose(page)):
        if re.match(r"[a-z]+:", target):
            continue  # https:, mailto:
        file, _, anchor = target.partition("#")
        dest = (page.parent / file).resolve() if file else page
        if not dest.exists():
            broken.append(target)
        elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
            broken.append(f"{target} (no such heading)")
    assert not broken, f"{page.name}: {broken}"


def test_every_docs_page_is_linked_from_the_readme():
    linked = {(README.parent / t.partition("#")[0]).resolve() for t in LINK.findall(_prose(README))}
    assert [p.name for p in PAGES[1:] if p.resolve() not in linked] == []


def test_the_tests_page_names_every_test_file():
    page = (PROJECT_ROOT / "docs" / "tests.md").read_text(encoding="utf-8")
    missing = [p.name for p in sorted((PROJECT_ROOT / "tests").glob("test_*.py")) if f"`{p.name}`" not in page]
    assert missing == [], "docs/tests.md does not say what these test files check"


def test_the_params_page_names_every_profile():
    page = (PROJECT_ROOT / "docs" / "params.md").read_text(encoding="utf-8")
    missing = [p.name for p in sorted((PROJECT_ROOT / "params").glob("*.yaml")) if p.name not in page]
    assert missing == [], "docs/params.md's profile table lacks these params files"


def _commands() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in PAGES)


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_every_make_command_shown_names_a_target():
    out = subprocess.run(["make", "--no-print-directory"], capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=60)
    targets = {
        line.split()[0]
        for line in out.stdout.replace("\x1b[1m", " ").replace("\x1b[0m", " ").splitlines()
        if line.startswith("  ") and "variables" not in line
    }
    text = _commands()
    shown = set(re.findall(r"`make ([a-z][a-z-]*)", text)) | set(re.findall(r"^make ([a-z][a-z-]*)", text, flags=re.M))
    assert shown and shown <= targets, sorted(shown - targets)


def test_every_params_file_and_module_shown_exists():
    text = _commands()
    params = set(re.findall(r"PARAMS=(params/[\w.-]+\.yaml)", text))
    assert params and [p for p in sorted(params) if not (PROJECT_ROOT / p).is_file()] == []
    modules = set(re.findall(r"python -m (helpers(?:\.\w+)*)", text))
    assert modules and [m for m in sorted(modules) if importlib.util.find_spec(m) is None] == []
