"""Nulls a sceptic computes beside a fit's FC correlation: what each brain map predicts with no dynamics at all.

A continuous map m predicts FC_ij as −|m_i − m_j| (regions alike on the map are alike in FC); a categorical map
(e.g. Yeo-7 networks) predicts 1 for two regions of the same group and 0 otherwise. Its "map alone" r is the Pearson
correlation of that prediction with the target FC on the scored edges, as the structure-alone baseline is Cmat's.
A model handed an FC-derived map (the FC gradient) must beat that map's own r before its dynamics add anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from engine.data.compare import Edges, matrix_corr
from engine.data.maps import derived_maps, is_categorical, read_maps
from engine.params import split_regional

#: A fit's r within this of the best map-alone r is reported as no better than the map.
MAP_MARGIN = 0.01


def map_prediction(values: np.ndarray) -> np.ndarray:
    """The FC a map predicts on its own (N, N): −|m_i − m_j|, or same-group 1/0 for a categorical map."""
    v = np.asarray(values, np.float64).reshape(-1)
    if is_categorical(v):
        return (v[:, None] == v[None, :]).astype(np.float64)
    return -np.abs(v[:, None] - v[None, :])


def map_alone(maps: Mapping[str, np.ndarray], fc: np.ndarray, edges: Edges | None) -> dict[str, float]:
    """{map: Pearson r of its prediction with ``fc`` on ``edges``} (None: every upper-triangle edge)."""
    return {name: matrix_corr(map_prediction(v), fc, edges) for name, v in maps.items()}


def used_maps(names: Iterable[str]) -> tuple[str, ...]:
    """The base maps (``yeo7`` for ``yeo7:3``) that the coefficient names ``P@MAP`` refer to, in order of first use."""
    out = []
    for n in names:
        parts = split_regional(n)
        if parts is not None:
            out.append(parts[1].partition(":")[0])
    return tuple(dict.fromkeys(out))


def raw_maps(dataset: object, train_fc: np.ndarray, names: Iterable[str],
             extra: Mapping[str, str] | None = None) -> dict[str, np.ndarray]:
    """The unscaled maps ``names`` from the data, ``extra`` files and the derived ones (``fcgradient`` of
    ``train_fc``: the FC the fit scores, never a test FC); names it does not know are left out."""
    wanted = list(names)
    if not wanted:
        return {}
    raw = read_maps(dataset, extra)  # type: ignore[arg-type]
    raw.update(derived_maps(dataset.cmat, train_fc))  # type: ignore[attr-defined]
    return {n: raw[n] for n in wanted if n in raw}


def best_null(baselines: Mapping[str, float | None]) -> tuple[str, float] | None:
    """The map whose prediction scores highest (name, r), or None when none has a finite r."""
    finite = [(n, float(r)) for n, r in baselines.items() if r is not None and r == r]
    return max(finite, key=lambda x: x[1]) if finite else None


def map_caveat(best_corr: float | None, baselines: Mapping[str, float | None], *, what: str = "best") -> str | None:
    """A warning when the model's r is no better than what one of the maps it uses predicts on its own."""
    top = best_null(baselines)
    if best_corr is None or best_corr != best_corr or top is None:
        return None
    name, r = top
    if best_corr > r + MAP_MARGIN:
        return None
    return (f"{what} FC correlation {best_corr:.3f} is no better than map {name} alone ({r:.3f}: −|m_i − m_j| with no "
            f"dynamics, same edges): the model adds nothing the map does not already predict")


def permutation(name: str, *, seed: int, index: int, hemisphere: np.ndarray | None, n: int) -> np.ndarray:
    """Permutation ``index`` (≥ 1) of the regions for map ``name``: regions shuffled within their hemisphere
    (over all regions when the data gives none), reproducible from the seed, the index and the map's name."""
    import zlib

    rng = np.random.default_rng([int(seed), int(index), zlib.crc32(name.encode())])
    perm = np.arange(n)
    groups = [np.arange(n)] if hemisphere is None else [np.flatnonzero(hemisphere == h) for h in np.unique(hemisphere)]
    for g in groups:
        perm[g] = g[rng.permutation(g.size)]
    return perm


def permute_maps(maps: Mapping[str, np.ndarray], *, only: Iterable[str], seed: int, index: int,
                 hemisphere: np.ndarray | None) -> dict[str, np.ndarray]:
    """``maps`` (scaled, ``NAME`` or ``NAME:G``) with the values of each base map in ``only`` (all when empty)
    permuted over regions within hemispheres; a categorical map's group indicators share one permutation."""
    keep = set(only)
    out = {}
    for key, v in maps.items():
        base = key.partition(":")[0]
        if keep and base not in keep:
            out[key] = v
            continue
        perm = permutation(base, seed=seed, index=index, hemisphere=hemisphere, n=len(v))
        out[key] = np.asarray(v)[perm]
    return out


def control_summary(maps: Iterable[str], real: float | None, permuted: Iterable[float | None]) -> dict[str, object]:
    """The map control's verdict: the real fit's r beside the fits with permuted maps, and the permutation p-value
    (1 + #permuted ≥ real) / (1 + K) — with K permutations it cannot fall below 1 / (1 + K)."""
    perm = [None if r is None or r != r else float(r) for r in permuted]
    finite = [r for r in perm if r is not None]
    p = None
    if real is not None and real == real and finite:
        p = (1 + sum(1 for r in finite if r >= real)) / (1 + len(finite))
    return {"maps": list(maps), "permutations": len(perm), "real_fc_corr": real, "permuted_fc_corr": perm,
            "permuted_mean": float(np.mean(finite)) if finite else None,
            "permuted_max": max(finite) if finite else None, "p_value": p,
            "p_floor": 1 / (1 + len(perm)) if perm else None}


def control_caveat(control: Mapping[str, Any]) -> str | None:
    """A warning when the fits with permuted maps score as well as the real one (the map's pattern does not matter),
    or when the real maps beat every permutation but too few were run for the p-value to say so."""
    p, real, best, floor = (control.get(k) for k in ("p_value", "real_fc_corr", "permuted_max", "p_floor"))
    if p is None or real is None or best is None or float(p) <= 0.05:
        return None
    k = control["permutations"]
    if floor and p <= floor + 1e-12:
        return (f"map control: the real maps beat all {k} permutations (r {real:.3f} against at most {best:.3f}), "
                f"but {k} permutations cannot give p below {floor:.2f}: use --permutations 19 or more for p ≤ 0.05")
    return (f"map control: fits with the maps' values permuted within hemispheres reach r up to {best:.3f} against "
            f"{real:.3f} with the real maps (p = {p:.2f}): the fit does not show that the maps' regional pattern "
            "matters")
