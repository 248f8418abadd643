"""Which FC edges a fit scores: a registry of edge sets (``all``, ``within``) and the hemisphere of each region.

An edge set is a rule over the upper triangle (i < j) of an N × N matrix; ``edge_index`` turns it into index
arrays (int32) that the FC terms, the FC correlation r and the structure-alone baseline all use, so the three are
always on the same edges. ``all`` is every upper-triangle edge (the tutorial's); ``within`` keeps the edges whose
two regions lie in the same hemisphere (as cuBNM scores FC: interhemispheric structure is sparse while FC is
strongly homotopic). A new set is one ``EdgeSet`` entry in ``_SETS``.

Hemispheres come from a ``hemisphere`` array of the data (0/1 or L/R per region) or from region labels: a
``_L``/``_R`` or ``.L``/``.R`` suffix (AAL), an ``LH_``/``RH_`` or ``L_``/``R_`` prefix (Schaefer, Glasser), an ``_LH_``/``_RH_``
token inside the label (Schaefer's full names, ``7Networks_LH_Vis_1``), or the words ``Left``/``Right``. Every
region must be placed, else there is no hemisphere information.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

#: Hemisphere codes.
LEFT, RIGHT = 0, 1


class EdgeError(ValueError):
    """An edge selection that cannot be used with the data; the message is one line meant for the user."""


@dataclass(frozen=True, kw_only=True)
class EdgeSet:
    """One edge selection: ``keep(i, j, hemisphere)`` → boolean mask over upper-triangle pairs."""

    name: str
    description: str
    needs_hemispheres: bool
    keep: Callable[[np.ndarray, np.ndarray, np.ndarray | None], np.ndarray]


_SETS = (
    EdgeSet(name="all", description="every edge (upper triangle)", needs_hemispheres=False,
            keep=lambda i, j, h: np.ones(i.shape, bool)),
    EdgeSet(name="within", description="edges within a hemisphere (left–left and right–right)",
            needs_hemispheres=True, keep=lambda i, j, h: h[i] == h[j]),  # type: ignore[index]
)
REGISTRY: Mapping[str, EdgeSet] = MappingProxyType({s.name: s for s in _SETS})
NAMES: tuple[str, ...] = tuple(REGISTRY)

_SUFFIX = re.compile(r"(?:[_.\-\s])(L|R|LH|RH|left|right)$", re.IGNORECASE)
_PREFIX = re.compile(r"^(L|R|LH|RH|left|right)(?:[_.\-\s])", re.IGNORECASE)
_MIDDLE = re.compile(r"(?:^|[_.\-\s])(LH|RH)(?:[_.\-\s]|$)", re.IGNORECASE)  # 7Networks_LH_Vis_1 (Schaefer's LUT)
_WORD = re.compile(r"\b(left|right)\b", re.IGNORECASE)


def _side(token: str) -> int:
    return LEFT if token.lower().startswith("l") else RIGHT


def label_hemisphere(label: str) -> int | None:
    """The hemisphere (LEFT/RIGHT) a region label names, or None when it names none."""
    text = str(label).strip()
    for rx in (_PREFIX, _SUFFIX, _MIDDLE):
        m = rx.search(text)
        if m:
            return _side(m.group(1))
    m = _WORD.search(text)
    return None if m is None else _side(m.group(1))


def hemispheres_from_labels(labels: Sequence[str] | None) -> np.ndarray | None:
    """Hemisphere per region (int8, LEFT/RIGHT) from labels, or None unless every label names one."""
    if not labels:
        return None
    sides = [label_hemisphere(x) for x in labels]
    if any(s is None for s in sides):
        return None
    return np.asarray(sides, np.int8)


def check_hemisphere(value: Any, n: int, what: str) -> np.ndarray:
    """A data's ``hemisphere`` array (N values: 0/1, or L/R/left/right) as int8 LEFT/RIGHT; EdgeError otherwise."""
    arr = np.asarray(value).reshape(-1)
    if arr.size != n:
        raise EdgeError(f"{what}: hemisphere has {arr.size} values but there are {n} regions")
    if arr.dtype.kind in "biuf":
        vals = set(np.unique(arr).tolist())
        if not vals <= {0, 1}:
            raise EdgeError(f"{what}: hemisphere values must be 0 (left) and 1 (right), got {sorted(vals)[:5]}")
        return arr.astype(np.int8)
    out = []
    for v in arr.tolist():
        s = str(v.decode() if isinstance(v, bytes) else v).strip().lower()
        if s in ("l", "lh", "left"):
            out.append(LEFT)
        elif s in ("r", "rh", "right"):
            out.append(RIGHT)
        else:
            raise EdgeError(f"{what}: hemisphere value {v!r} is neither L/left nor R/right")
    return np.asarray(out, np.int8)


def dataset_hemispheres(dataset: Any) -> np.ndarray | None:
    """The hemisphere of each region of a dataset: its ``hemisphere`` array, else from its labels, else None."""
    h = getattr(dataset, "hemisphere", None)
    if h is not None:
        return np.asarray(h, np.int8)
    return hemispheres_from_labels(getattr(dataset, "labels", None))


def edge_index(name: str, n: int, hemisphere: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Upper-triangle index arrays (int32 i, j) of edge set ``name`` on N regions; EdgeError when unusable."""
    spec = REGISTRY.get(name)
    if spec is None:
        raise EdgeError(f"unknown edge set {name!r}; known: {', '.join(NAMES)}")
    if spec.needs_hemispheres and hemisphere is None:
        raise EdgeError(f"--edges {name} needs each region's hemisphere: the data has no 'hemisphere' array and its "
                        "labels do not name one (_L/_R, LH_/RH_, Left/Right)")
    i, j = np.triu_indices(n, k=1)
    keep = spec.keep(i, j, None if hemisphere is None else np.asarray(hemisphere))
    i, j = i[keep].astype(np.int32), j[keep].astype(np.int32)
    if i.size < 3:
        raise EdgeError(f"--edges {name} leaves {i.size} edges on {n} regions; a correlation needs at least 3")
    return i, j


def dataset_edges(name: str, dataset: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """Index arrays of edge set ``name`` on a dataset's regions; None for ``all`` (every upper-triangle edge)."""
    if name == "all":
        return None
    return edge_index(name, int(dataset.n_nodes), dataset_hemispheres(dataset))

