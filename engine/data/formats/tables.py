"""Text tables: numeric matrices (weights, tract lengths), region time series with a header, TVB centres."""

from __future__ import annotations

import csv
import io

import numpy as np

from engine.data.errors import DataError
from engine.text import one_line

#: Cells read as an index column when they head the first column (pandas' ``to_csv`` writes one).
_INDEX_HEADERS = ("", "Unnamed: 0")


def decode(data: bytes, where: str) -> str:
    """UTF-8 text (a leading byte-order mark is dropped), or a DataError naming the file."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{where}: not UTF-8 text ({one_line(exc)})") from None


def _number(cell: str, where: str, line: int, column: str) -> float:
    """One cell as a float, or a DataError naming the line and column."""
    try:
        return float(cell)
    except ValueError:
        shown = repr(cell) if cell else "an empty cell"
        raise DataError(f"{where}: line {line}, column {column}: {shown} is not a number") from None


def _numbers(rows: list[tuple[int, list[str]]], where: str, columns: list[str]) -> np.ndarray:
    """Rows of equal length as a float64 matrix; the first cell that is not a number is named."""
    try:
        return np.array([list(map(float, cells)) for _, cells in rows], dtype=np.float64)
    except ValueError:
        for line, cells in rows:
            for column, cell in zip(columns, cells):
                _number(cell, where, line, column)
        raise


def _rows(text: str, delimiter: str | None) -> list[tuple[int, list[str]]]:
    """(line number, cells) of every non-blank line; ``None`` splits on whitespace."""
    if delimiter is None:
        lines = [(i, line.split()) for i, line in enumerate(text.splitlines(), 1)]
    else:
        reader = csv.reader(io.StringIO(text), delimiter=delimiter)
        lines = [(reader.line_num, row) for row in reader]
    return [(i, cells) for i, cells in lines if any(c.strip() for c in cells)]


def read_matrix(data: bytes, where: str, *, delimiter: str | None) -> np.ndarray:
    """A numeric matrix without a header (TVB's weights.txt): every row the same length, every cell a number."""
    rows = _rows(decode(data, where), delimiter)
    if not rows:
        raise DataError(f"{where}: the file is empty")
    width = len(rows[0][1])
    for line, cells in rows:
        if len(cells) != width:
            raise DataError(f"{where}: line {line} has {len(cells)} numbers but line {rows[0][0]} has {width}; "
                            "a matrix needs rows of equal length")
    return _numbers([(line, cells) for line, cells in rows], where, [str(j + 1) for j in range(width)])


def read_series(data: bytes, where: str, *, delimiter: str) -> tuple[tuple[str, ...], np.ndarray]:
    """A region time series table: a header row of region names, then one row per sample → (names, N×T)."""
    rows = _rows(decode(data, where), delimiter)
    if not rows:
        raise DataError(f"{where}: the file is empty")
    header_line, header = rows[0][0], [h.strip() for h in rows[0][1]]
    if len(header) > 1 and header[0] in _INDEX_HEADERS:  # an index column, not a region
        drop = 1
        header = header[1:]
    else:
        drop = 0
    if len(header) == 1:  # the delimiter does not occur in the header line
        other = next((name for ch, name in (("\t", "tab"), (",", "','"), (";", "';'")) if ch in header[0]), None)
        hint = f" (it looks {other}-separated)" if other else ""
        sep = "tab" if delimiter == "\t" else repr(delimiter)
        raise DataError(f"{where}: the header has one column; expected one {sep}-separated column per region{hint}")
    if all(_is_number(h) for h in header) and not all(_is_integer(h) for h in header):
        raise DataError(f"{where}: the first line holds numbers, not region names; "
                        "the first line must be a header of region names")
    empty = [j for j, h in enumerate(header) if not h]
    if empty:
        raise DataError(f"{where}: header column {empty[0] + 1 + drop} has no region name")
    seen: set[str] = set()
    for h in header:
        if h in seen:
            raise DataError(f"{where}: region {h!r} appears twice in the header")
        seen.add(h)
    body = rows[1:]
    if not body:
        raise DataError(f"{where}: the header is not followed by any samples")
    width = len(header) + drop
    for line, cells in body:
        if len(cells) != width:
            raise DataError(f"{where}: line {line} has {len(cells)} cells but the header (line {header_line}) "
                            f"has {width}")
    values = _numbers([(line, cells[drop:]) for line, cells in body], where, [repr(h) for h in header])
    return tuple(header), values.T


def read_centres(data: bytes, where: str) -> tuple[str, ...]:
    """Region labels from TVB's centres.txt: the first whitespace-separated column of each line."""
    rows = _rows(decode(data, where), None)
    if not rows:
        raise DataError(f"{where}: the file is empty")
    return tuple(cells[0] for _, cells in rows)


def _is_number(text: str) -> bool:
    """Whether float() reads the text."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def _is_integer(text: str) -> bool:
    """Whether the text is a whole number (an atlas index can be a region's name)."""
    return text.lstrip("+-").isdigit()
