"""Readers for the dataset formats users already have, in one registry; each returns raw contents the dataset checks.

A format is one module in this package that defines ``FORMATS``: a tuple of :class:`Format` (the suffixes it
claims and/or a ``sniff`` test, a label for messages, and ``read(path) -> Contents``). The registry finds those
modules itself (``pkgutil``, on first use), so a new format is one new file here and nothing else; a format
defined elsewhere (a plugin, a test) is added at run time with :func:`register`. ``engine.data.dataset`` loads a
path through :func:`find`.

Every reader returns a :class:`Contents`: a map with the keys of the msgpack layout (``Cmat``, ``Dmat``,
``BOLDs`` or ``FC``, optional ``TR`` and ``labels``) and, when the scans come from separate files, their
names for messages. The dataset checks the map the same way for every format, so the same data in any format
yields the same ``Dataset``. Every reader reports a bad file as a one-line ``DataError``.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from engine.data.errors import DataError


@dataclass(frozen=True, kw_only=True)
class Contents:
    """What a reader found: the msgpack-layout map and, when scans come from files, those files' names."""

    arrays: dict[str, Any]
    scan_names: tuple[str, ...] = field(default=())


@dataclass(frozen=True, kw_only=True)
class Format:
    """One dataset format: the reader, the file suffixes it claims and/or a test that claims a path outright."""

    name: str  # unique, e.g. "npz"
    label: str  # for messages: "an .npz file"
    read: Callable[[Path], Contents]
    suffixes: tuple[str, ...] = ()  # lower case, with the dot: (".npz",)
    sniff: Callable[[Path], bool] | None = None  # claims a path whatever its suffix (a folder); asked first


_REGISTRY: dict[str, Format] = {}
_discovered = False


def _discover() -> None:
    """Register the ``FORMATS`` of every module of this package (once; modules without it are helpers)."""
    global _discovered
    if _discovered:
        return
    _discovered = True
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for fmt in getattr(module, "FORMATS", ()):
            register(fmt)


def register(fmt: Format) -> Format:
    """Add a format; a name or suffix another format already has is a ValueError."""
    if fmt.name in _REGISTRY:
        raise ValueError(f"a dataset format named {fmt.name!r} is already registered")
    if not fmt.suffixes and fmt.sniff is None:
        raise ValueError(f"dataset format {fmt.name!r} claims no suffix and has no sniff test")
    for suffix in fmt.suffixes:
        if suffix != suffix.lower() or not suffix.startswith("."):
            raise ValueError(f"dataset format {fmt.name!r}: suffix {suffix!r} must be lower case and start with '.'")
        owner = next((f.name for f in _REGISTRY.values() if suffix in f.suffixes), None)
        if owner is not None:
            raise ValueError(f"dataset format {fmt.name!r}: suffix {suffix!r} is already read by {owner!r}")
    _REGISTRY[fmt.name] = fmt
    return fmt


def unregister(name: str) -> None:
    """Remove a format added with :func:`register` (no error when it is not there)."""
    _REGISTRY.pop(name, None)


def registry() -> Mapping[str, Format]:
    """Every known format by name (read-only): this package's, in module order, then those registered later."""
    _discover()
    return MappingProxyType(_REGISTRY)


def suffixes() -> tuple[str, ...]:
    """Every suffix a registered format reads (e.g. for a file picker's filter)."""
    return tuple(s for fmt in registry().values() for s in fmt.suffixes)


def find(path: Path) -> Format:
    """The format that reads ``path``: the first whose sniff test claims it, else the one owning its suffix."""
    formats = registry().values()
    for fmt in formats:
        if fmt.sniff is not None and fmt.sniff(path):
            return fmt
    suffix = path.suffix.lower()
    for fmt in formats:
        if suffix and suffix in fmt.suffixes:
            return fmt
    labels = [f.label for f in formats]
    known = ", ".join(labels[:-1]) + f" or {labels[-1]}" if len(labels) > 1 else "".join(labels)
    raise DataError(f"unknown dataset format for {path}: extension {path.suffix or '(none)'!r}; use {known}")


def read(path: Path) -> Contents:
    """Read ``path`` with the format that claims it (unchecked contents)."""
    return find(path).read(path)
