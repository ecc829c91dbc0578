"""Names of people: cleaning, validation, folder-safe slugs, and the random-names baseline."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path

from .errors import AuditError
from .files import sha256_bytes

__all__ = ["clean_name", "name_key", "slug", "validate_names", "random_names", "name_folder"]

_MAX_SLUG_TEXT = 48


def clean_name(name: object, *, where: str = "") -> str:
    """The name as used everywhere: Unicode NFC, outer whitespace stripped, inner runs of spaces collapsed.

    Raises :class:`AuditError` for a name that is not text, is empty or only spaces, or holds a NUL or
    another control character (tabs and newlines included): such a name cannot be a prompt.
    """
    if not isinstance(name, str):
        raise AuditError(f"name {name!r} is not text", where=where, fix="write the name as a string")
    text = unicodedata.normalize("NFC", name)
    printable = text.isascii() and text.isprintable()  # the common case: no control character
    bad = [] if printable else [c for c in text if unicodedata.category(c) == "Cc" or c in "\u2028\u2029"]
    if bad:
        raise AuditError(
            f"name {text!r} contains the control character {bad[0]!r}",
            where=where,
            fix="remove NUL, tab, newline and other control characters from the name",
        )
    text = " ".join(text.split())
    if not text:
        raise AuditError("a name is empty or only spaces", where=where, fix="remove the empty row or fill it in")
    return text


def name_key(name: str) -> str:
    """The identity of a cleaned name for duplicate detection: NFKC, case-folded."""
    return unicodedata.normalize("NFKC", name).casefold()


def slug(name: str) -> str:
    """A folder name for ``name``: readable ASCII letters and digits, then 16 hex digits of its SHA-256.

    The result matches ``[a-z0-9-]+``, so it is never ``.``, ``..``, absolute, or holds a separator;
    the hash makes two different names give different slugs (a collision needs a 64-bit hash clash,
    and :func:`validate_names` checks for it anyway).
    """
    ascii_text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    readable = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:_MAX_SLUG_TEXT].strip("-")
    digest = sha256_bytes(name.encode("utf-8"))[:16]
    return f"{readable}-{digest}" if readable else digest


def name_folder(root: Path, name: str, what: str = "image") -> Path | None:
    """The subfolder of ``root`` holding ``name``'s files: named as the name, in any Unicode normal form
    (macOS writes NFD), or as :func:`slug` of it (the layout the downloader writes). ``None`` when there is
    none; an error when two exist."""
    wanted = {unicodedata.normalize("NFC", name), slug(name)}
    entries = sorted(root.iterdir()) if root.is_dir() else []
    found = [p for p in entries if unicodedata.normalize("NFC", p.name) in wanted and p.is_dir()]
    if len(found) > 1:
        raise AuditError(
            f"{name!r} has {'two' if len(found) == 2 else len(found)} {what} folders: "
            + " and ".join(f"'{p.name}'" for p in found),
            where=str(root),
            fix="merge them into one",
        )
    return found[0] if found else None


def validate_names(names: Iterable[object], *, where: str, what: str = "artist") -> list[str]:
    """Clean every name and refuse duplicates (after :func:`name_key`) and an empty list.

    ``where`` names the source (a file, a params key) so errors can point at the row.
    """
    cleaned: list[str] = []
    seen: dict[str, int] = {}
    slugs: dict[str, str] = {}
    for row, raw in enumerate(names, start=1):
        name = clean_name(raw, where=f"{where}, {what} {row}")
        key = name_key(name)
        if key in seen:
            raise AuditError(
                f"{what} {name!r} (row {row}) duplicates row {seen[key]} after normalisation",
                where=where,
                fix="keep one row per person",
            )
        s = slug(name)
        if s in slugs:  # pragma: no cover - needs a SHA-256 prefix collision
            raise AuditError(f"names {name!r} and {slugs[s]!r} share the slug {s}", where=where)
        seen[key], slugs[s] = row, name
        cleaned.append(name)
    if not cleaned:
        raise AuditError(f"the {what} list is empty", where=where, fix=f"add at least one {what}")
    return cleaned


def random_names(n: int, *, seed: int, locales: Sequence[str] = ("en_US",), exclude: Iterable[str] = ()) -> list[str]:
    """``n`` distinct, reproducible person names from Faker (same seed, locales and Faker version, same names).

    Names whose key equals one in ``exclude`` (the artists) are skipped, so no baseline name is an artist.
    """
    from faker import Faker

    fake = Faker(list(locales))
    fake.seed_instance(seed)
    taken = {name_key(clean_name(x)) for x in exclude}
    out: list[str] = []
    for _ in range(100 * n + 1000):
        if len(out) == n:
            return out
        name = clean_name(f"{fake.first_name()} {fake.last_name()}")
        key = name_key(name)
        if key not in taken:
            taken.add(key)
            out.append(name)
    raise AuditError(
        f"Faker gave fewer than {n} distinct names for locales {list(locales)}",
        where="random_names",
        fix="add locales or lower random_names.count",
    )
