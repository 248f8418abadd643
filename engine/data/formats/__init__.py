"""Readers for the dataset formats users already have; each returns raw contents that ``engine.data.dataset`` checks.

Every reader returns a :class:`Contents`: a map with the keys of the msgpack layout (``Cmat``, ``Dmat``,
``BOLDs`` or ``FC``, optional ``TR`` and ``labels``) and, when the scans come from separate files, their
names for messages. ``engine.data.dataset._build`` checks the map the same way for every format, so the same data in
any format yields the same ``Dataset``. Every reader reports a bad file as a one-line ``DataError``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, kw_only=True)
class Contents:
    """What a reader found: the msgpack-layout map and, when scans come from files, those files' names."""

    arrays: dict[str, Any]
    scan_names: tuple[str, ...] = field(default=())
