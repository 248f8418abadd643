"""msgpack files in braintools' array format (``braintools.file.msgpack_save``), read without braintools.

The top level is a map with the dataset's keys; arrays are msgpack ext types (ndarray, numpy scalar, complex)
and arrays over 1 GiB are split into chunks, as braintools writes them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgpack
import numpy as np

from engine.data.errors import DataError
from engine.data.formats import Contents, Format
from engine.text import one_line

# braintools' msgpack ext type codes (braintools.file._msg_checkpoint._MsgpackExtType)
_EXT_NDARRAY = 1
_EXT_COMPLEX = 2
_EXT_NPSCALAR = 3
_CHUNKED_MARK = "__msgpack_chunked_array__"


def _ndarray_from_bytes(data: bytes) -> np.ndarray:
    """Decode braintools' ndarray payload: msgpack (shape, dtype name, C-order bytes)."""
    shape, dtype_name, buffer = msgpack.unpackb(data, raw=True)
    if isinstance(dtype_name, bytes):
        dtype_name = dtype_name.decode("ascii")
    if dtype_name == "bfloat16":
        raise ValueError("bfloat16 arrays are not supported")
    arr = np.frombuffer(buffer, dtype=np.dtype(dtype_name), count=-1, offset=0)
    return arr.reshape(tuple(int(s) for s in shape), order="C")


def _ext_hook(code: int, data: bytes) -> Any:
    """msgpack ext hook mirroring braintools' decoder, without importing braintools."""
    if code == _EXT_NDARRAY:
        return _ndarray_from_bytes(data)
    if code == _EXT_NPSCALAR:
        return _ndarray_from_bytes(data)[()]
    if code == _EXT_COMPLEX:
        real, imag = msgpack.unpackb(data)
        return complex(real, imag)
    return msgpack.ExtType(code, data)


def _unchunk(obj: Any) -> Any:
    """Reassemble arrays braintools split into chunks (only arrays over 1 GiB)."""
    if isinstance(obj, dict):
        if _CHUNKED_MARK in obj:
            shape = tuple(int(obj["shape"][str(i)]) for i in range(len(obj["shape"])))
            chunks = [obj["chunks"][str(i)] for i in range(len(obj["chunks"]))]
            return np.concatenate(chunks).reshape(shape)
        return {k: _unchunk(v) for k, v in obj.items()}
    return obj


def read_msgpack(path: Path) -> Any:
    """Read a msgpack file as braintools.file.msgpack_load would (without a target); a DataError when it cannot."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read {path}: {one_line(exc.strerror or exc)}") from None
    if not data:
        raise DataError(f"cannot read {path}: the file is empty")
    try:
        obj = msgpack.unpackb(data, ext_hook=_ext_hook, raw=False, strict_map_key=False)
    except msgpack.exceptions.ExtraData:
        raise DataError(f"cannot read {path}: not a msgpack file (unexpected extra data)") from None
    except (ValueError, TypeError, msgpack.exceptions.UnpackException) as exc:
        raise DataError(
            f"cannot read {path}: not a valid msgpack file or truncated ({one_line(exc)})"
        ) from None
    return _unchunk(obj)


def _read(path: Path) -> Contents:
    """The file's top level as the contents (the dataset checks that it is a map)."""
    return Contents(arrays=read_msgpack(path))


FORMATS = (Format(name="msgpack", label="a .msgpack file (braintools)", suffixes=(".msgpack",), read=_read),)
