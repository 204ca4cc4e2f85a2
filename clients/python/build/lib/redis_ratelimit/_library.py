"""The script library shipped inside the package (the files of the repository's functions/)."""

from __future__ import annotations

import hashlib
import re
from importlib import resources
from typing import Any, Optional, Tuple

__all__ = ["LIBRARY", "SCRIPT", "SCRIPT_SHA", "VERSION", "version_of", "code_in"]


def _read(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


#: ``functions/ratelimit.lua``: ``FUNCTION LOAD`` as is.
LIBRARY = _read("ratelimit.lua")
#: ``functions/ratelimit-script.lua``: the same code for EVALSHA, the function name in ARGV[1].
SCRIPT = _read("ratelimit-script.lua")
SCRIPT_SHA = hashlib.sha1(SCRIPT.encode("utf-8")).hexdigest()

_VERSION = re.compile(r"^-- redis-ratelimit ([0-9]+)\.([0-9]+)\.([0-9]+)\b", re.MULTILINE)


def version_of(code: str) -> Optional[Tuple[int, int, int]]:
    """The version a library's code names on its second line; None for one that names none
    (older than any that does)."""
    match = _VERSION.search(code, 0, 400)
    if match is None:
        return None
    major, minor, patch = match.groups()
    return (int(major), int(minor), int(patch))


_own = version_of(LIBRARY)
if _own is None:  # pragma: no cover (a test reads the shipped files)
    raise ImportError("the packaged ratelimit.lua names no version")
VERSION: Tuple[int, int, int] = _own


def _text(value: Any) -> Optional[str]:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value if isinstance(value, str) else None


def code_in(listing: Any) -> Optional[str]:
    """The ``library_code`` of a ``FUNCTION LIST ... WITHCODE`` reply, RESP2 (flat lists) or
    RESP3 (maps), decoded or not; None when the library is not there."""
    if isinstance(listing, dict):
        items = [value for pair in listing.items() for value in pair]
    elif isinstance(listing, (list, tuple)):
        items = list(listing)
    else:
        return None
    for name, value in zip(items, items[1:]):
        if _text(name) == "library_code" and _text(value) is not None:
            return _text(value)
    for item in items:
        found = code_in(item)
        if found is not None:
            return found
    return None
