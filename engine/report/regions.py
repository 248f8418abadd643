"""The order a report draws regions in: the data's order, grouped by hemisphere and network where the data says.

Hemispheres come from the data's ``hemisphere`` array or its labels (``engine.data.edges``); networks from a
categorical ``yeo7`` map of the data (``engine.data.maps``, e.g. Schaefer-100's ``maps/yeo7.txt``). Regions are
sorted stably by (hemisphere, network), so data already in that order (Schaefer: left then right, networks in
order within each) is drawn exactly in its own order, and interleaved data (AAL: L, R, L, R, …) is drawn left
hemisphere first, each in the data's order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.data.dataset import DataError, Dataset
from engine.data.edges import dataset_hemispheres
from engine.data.maps import is_categorical, read_maps

#: Names of Yeo et al. (2011)'s seven networks, in the order of their usual codes 0–6 (Schaefer's 7Networks).
YEO7_NAMES = ("Vis", "SomMot", "DorsAttn", "SalVentAttn", "Limbic", "Cont", "Default")
#: The map that groups regions into networks, when the data carries it.
NETWORK_MAP = "yeo7"


@dataclass(frozen=True, kw_only=True)
class Groups:
    """Consecutive runs of one grouping along the drawn order: where each starts and its name."""

    starts: tuple[int, ...]
    names: tuple[str, ...]
    size: int  # regions in all

    def bounds(self) -> list[tuple[int, int, str]]:
        """(start, end, name) of every run of the grouping."""
        ends = self.starts[1:] + (self.size,)
        return list(zip(self.starts, ends, self.names))


@dataclass(frozen=True, kw_only=True)
class RegionOrder:
    """A permutation of the regions with the hemisphere and network runs it produces."""

    order: np.ndarray  # (N,) region indices in drawing order
    hemispheres: Groups | None
    networks: Groups | None
    network: np.ndarray | None  # (N,) network code of each region in the data's order
    network_names: tuple[str, ...]  # name of each network code
    note: str  # one line saying how the regions are ordered

    def apply(self, m: np.ndarray) -> np.ndarray:
        """A square matrix's rows and columns in drawing order."""
        return np.asarray(m)[np.ix_(self.order, self.order)]


def _runs(codes: np.ndarray, names: dict[int, str]) -> Groups:
    starts = [0] + [i for i in range(1, codes.size) if codes[i] != codes[i - 1]]
    return Groups(starts=tuple(starts), names=tuple(names.get(int(codes[s]), str(codes[s])) for s in starts),
                  size=int(codes.size))


def network_codes(dataset: Dataset) -> tuple[np.ndarray | None, tuple[str, ...]]:
    """Each region's network code and the codes' names, from the data's ``yeo7`` map; (None, ()) without one."""
    try:
        maps = read_maps(dataset)
    except DataError:
        return None, ()
    values = maps.get(NETWORK_MAP)
    if values is None or not is_categorical(values):
        return None, ()
    codes = np.asarray(values, np.int64)
    top = int(codes.max())
    if codes.min() >= 0 and top < len(YEO7_NAMES):
        return codes, YEO7_NAMES[:top + 1]
    return codes, tuple(f"{NETWORK_MAP}:{g}" for g in range(top + 1))


def region_order(dataset: Dataset) -> RegionOrder:
    """Drawing order of a dataset's regions: by hemisphere, then network, the data's order within."""
    n = dataset.n_nodes
    hemi = dataset_hemispheres(dataset)
    codes, names = network_codes(dataset)
    keys = [np.arange(n)]
    if codes is not None:
        keys.append(codes)
    if hemi is not None:
        keys.append(np.asarray(hemi, np.int64))
    order = np.lexsort(keys) if len(keys) > 1 else np.arange(n)
    moved = not np.array_equal(order, np.arange(n))
    what = " and ".join(w for w, k in (("hemisphere", hemi), ("network (yeo7)", codes)) if k is not None)
    if not what:
        note = "regions in the data's order (no hemisphere or network information)"
    elif moved:
        note = f"regions grouped by {what}, in the data's order within each group"
    else:
        note = f"regions in the data's order (already grouped by {what})"
    return RegionOrder(order=order,
                       hemispheres=None if hemi is None else _runs(np.asarray(hemi)[order], {0: "L", 1: "R"}),
                       networks=None if codes is None else _runs(codes[order], dict(enumerate(names))),
                       network=codes, network_names=names, note=note)
