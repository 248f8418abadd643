"""Datasets on Kaggle (``kaggle:OWNER/DATASET[/FILE]``): the download, with a timeout, and the file in it."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from engine.data.errors import DataError
from engine.text import one_line

KAGGLE_PREFIX = "kaggle:"
KAGGLE_DEFAULT_FILE = "hcp-data-sample.msgpack"
KAGGLE_TIMEOUT_ENV = "WCFIT_KAGGLE_TIMEOUT"
KAGGLE_DEFAULT_TIMEOUT = 60.0


def kaggle_timeout() -> float:
    """Download timeout in seconds: $WCFIT_KAGGLE_TIMEOUT or 60."""
    try:
        value = float(os.environ.get(KAGGLE_TIMEOUT_ENV, ""))
    except ValueError:
        return KAGGLE_DEFAULT_TIMEOUT
    return value if value > 0 else KAGGLE_DEFAULT_TIMEOUT


def parse_kaggle(spec: str) -> tuple[str, str]:
    """Split 'kaggle:OWNER/DATASET[/FILE]' into the handle and the file."""
    rest = spec[len(KAGGLE_PREFIX):].strip().strip("/")
    parts = [p for p in rest.split("/") if p]
    if len(parts) < 2:
        raise DataError(
            f"bad kaggle source {spec!r}: expected kaggle:OWNER/DATASET[/FILE]"
        )
    handle = f"{parts[0]}/{parts[1]}"
    file = "/".join(parts[2:]) or KAGGLE_DEFAULT_FILE
    return handle, file


def kaggle_download(handle: str) -> Path:
    """Run kagglehub.dataset_download in a daemon thread with a timeout."""
    offline_hint = (
        "you are offline or Kaggle is unreachable — download the file elsewhere "
        "and pass its path with --data"
    )
    try:
        import kagglehub
    except ImportError as exc:
        raise DataError(f"could not download kaggle dataset {handle}: kagglehub is not installed ({one_line(exc)})") from None

    result: dict[str, Any] = {}

    def work() -> None:
        try:
            result["path"] = kagglehub.dataset_download(handle)
        except BaseException as exc:  # reported to the caller below
            result["error"] = exc

    timeout = kaggle_timeout()
    thread = threading.Thread(target=work, name=f"kaggle-download-{handle}", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise DataError(
            f"could not download kaggle dataset {handle}: no answer after {timeout:g} s; {offline_hint}"
        )
    if "error" in result:
        error = result["error"]
        raise DataError(
            f"could not download kaggle dataset {handle}: {type(error).__name__}: {one_line(error, 200)}; {offline_hint}"
        )
    try:
        return Path(result["path"])
    except (KeyError, TypeError) as exc:
        raise DataError(f"could not download kaggle dataset {handle}: kagglehub returned no path ({one_line(exc)})") from None


def kaggle_file(spec: str) -> tuple[Path, str]:
    """Download a Kaggle dataset with kagglehub; the file ``spec`` names in it, and the source to record."""
    handle, file = parse_kaggle(spec)
    root = kaggle_download(handle)
    if root.is_file():
        target = root if root.name == Path(file).name else root.parent / file
        root = root.parent
    else:
        target = root / file
    if not target.is_file() and root.is_dir():
        matches = [p for p in root.rglob(Path(file).name) if p.is_file()]
        if len(matches) == 1:
            target = matches[0]
    if not target.is_file():
        listing = (
            sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
            if root.is_dir()
            else []
        )
        shown = ", ".join(listing[:20]) + (f", … ({len(listing)} files)" if len(listing) > 20 else "")
        raise DataError(
            f"kaggle dataset {handle} has no file {file!r}; it contains: {shown or 'no files'}"
        )
    return target, f"{KAGGLE_PREFIX}{handle}/{file}"
