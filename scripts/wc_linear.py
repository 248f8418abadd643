"""The Wilson–Cowan network's own linear FC: a surrogate for quiet, FIC-held points, checked against simulation.

With FIC the network's fixed point is known exactly (every rE_i at the target, rI_i at its I*), and at zero frequency
the delays drop out (e^{−iωτ} = 1), so the slow fluctuations' covariance of the linearised 2N-dimensional network is
S = J⁻¹ B Q Bᵀ J⁻ᵀ (J the drift's Jacobian at the fixed point, B how the OU noise enters, Q ∝ σ_i²). BOLD of equal
baselines is one common linear filter of rE, so its FC is the E block's correlation. This script builds the
parameters exactly as a fit does (maps, FIC), predicts FC in milliseconds, and

  --check PARAMS.json   compares the prediction with a fit's fresh-noise verdict (its JSON summary);
  --search              fits the regional coefficients of the preset's family to the FC on the surrogate alone
                        (stable points only, level held within 0.1), then prints the point to simulate.

Run:  python scripts/wc_linear.py --check /path/fit.json  |  --search [--param NAME=LO:HI …]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from scipy.optimize import minimize

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
jax.config.update("jax_enable_x64", True)

from engine.config import FitConfig  # noqa: E402
from engine.data.dataset import Dataset, load_dataset  # noqa: E402
from engine.data.edges import dataset_edges  # noqa: E402
from engine.model.batch import fit_maps  # noqa: E402
from engine.model.coupling import REGISTRY as COUPLINGS  # noqa: E402
from engine.model.regional import START_E, START_I, regional_params  # noqa: E402
from engine.settings import config_from_settings  # noqa: E402


class Surrogate:
    """Linear FC of one configuration's candidates (names and bounds as the fit has them)."""

    def __init__(self, config, dataset) -> None:  # type: ignore[no-untyped-def]
        self.config, self.names = config, list(config.names)
        self.cmat = jnp.asarray(np.asarray(dataset.cmat, np.float64))
        self.n = int(self.cmat.shape[0])
        self.maps = {k: jnp.asarray(v, jnp.float64) for k, v in
                     fit_maps(config, dataset, np.asarray(dataset.target_fc)).items()}
        self.fixed = {k: v for k, v in config.values().items() if k not in self.names}
        self.rowsum = self.cmat.sum(axis=1)[:, None]
        self.coupling = COUPLINGS[config.coupling]
        self._fc = jax.jit(self._fc_impl)

    def params(self, values: np.ndarray) -> tuple[dict[str, jax.Array], jax.Array]:
        """Parameters (N, 1) of one candidate, maps and FIC applied as the fit applies them; infeasible count."""
        p = {k: jnp.asarray(v, jnp.float64) for k, v in self.fixed.items()}
        for i, name in enumerate(self.names):
            p[name] = jnp.asarray([values[i]], jnp.float64)
        return regional_params(p, self.maps, fic=self.config.fic, coupling=self.coupling, cmat=self.cmat,
                               rowsum=self.rowsum, n_nodes=self.n, batch=1)

    def _linearise(self, values: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array]:
        """The drift's Jacobian (2N, 2N) at the FIC-held fixed point, its noise input (2N, 2N), σ (N,), FIC's count."""
        p, bad = self.params(values)
        e0, i0 = p[START_E][:, 0], p[START_I][:, 0]
        col = {k: (jnp.broadcast_to(v, (self.n, 1))[:, 0] if jnp.ndim(v) else v) for k, v in p.items()
               if not k.startswith("_")}

        def drift(z: jax.Array, o: jax.Array) -> jax.Array:
            e, i = z[: self.n], z[self.n:]
            cur = self.coupling.current(col["k"], self.cmat @ e, e, self.rowsum[:, 0])
            off_e = jax.nn.sigmoid(-col["a_E"] * col["theta_E"])
            off_i = jax.nn.sigmoid(-col["a_I"] * col["theta_I"])
            s_e = jax.nn.sigmoid(col["a_E"] * (col["wEE"] * e + cur + col["ext_E"] - col["wIE"] * i + o[: self.n]
                                               - col["theta_E"]))
            s_i = jax.nn.sigmoid(col["a_I"] * (col["wEI"] * e - col["wII"] * i + col["ext_I"] + o[self.n:]
                                               - col["theta_I"]))
            fe = (-e + (1 - col["r"] * e) * (s_e - off_e)) / col["tau_E"]
            fi = (-i + (1 - col["r"] * i) * (s_i - off_i)) / col["tau_I"]
            return jnp.concatenate([fe, fi])

        z0, o0 = jnp.concatenate([e0, i0]), jnp.zeros(2 * self.n)
        sigma = jnp.broadcast_to(col["sigma"], (self.n,))
        return jax.jacfwd(drift, 0)(z0, o0), jax.jacfwd(drift, 1)(z0, o0), sigma, bad[0]

    def jacobian(self, values: np.ndarray) -> np.ndarray:
        """The drift's Jacobian (2N, 2N; per ms) at the FIC-held fixed point: rE rows/columns first, then rI."""
        return np.asarray(self._linearise(jnp.asarray(values, jnp.float64))[0])

    def _fc_impl(self, values: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
        jac, b, sigma, bad = self._linearise(values)
        q = jnp.concatenate([sigma, sigma]) ** 2
        eig = jnp.linalg.eigvals(jac)
        lead = eig[jnp.argmax(eig.real)]
        growth = jax.lax.complex(lead.real, jnp.abs(lead.imag))  # the leading eigenvalue (per ms): growth, angular frequency
        x = jnp.linalg.solve(jac, b * jnp.sqrt(q)[None, :])
        s = (x @ x.T)[: self.n, : self.n]
        sd = jnp.sqrt(jnp.diag(s))
        return s / jnp.outer(sd, sd), growth, bad

    def fc(self, values: np.ndarray) -> tuple[np.ndarray, float, int]:
        """(FC (N, N), the largest eigenvalue's real part (< 0: a stable, quiet point), FIC's infeasible regions)."""
        r, g, bad = self._fc(jnp.asarray(values, jnp.float64))
        return np.asarray(r), float(np.real(g)), int(bad)

    def leading(self, values: np.ndarray) -> complex:
        """The Jacobian's leading eigenvalue (per ms) at the FIC-held fixed point."""
        return complex(self._fc(jnp.asarray(values, jnp.float64))[1])


def build(args: argparse.Namespace, data: Dataset | None = None) -> tuple[FitConfig, Surrogate]:
    """The preset's configuration with the command's parameter bounds, and its surrogate on ``data`` (else --data)."""
    settings = {"preset": args.preset, "param": args.param or None, "fix": args.fixed or None}
    config = config_from_settings(settings)
    return config, Surrogate(config, data if data is not None else load_dataset(args.data))


def main() -> int:
    """--check a fit's point against its fresh verdict, or --search the surrogate."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="regional")
    ap.add_argument("--data", default="schaefer100")
    ap.add_argument("--test", default="schaefer100-test")
    ap.add_argument("--param", action="append", default=[])
    ap.add_argument("--fixed", action="append", default=[])
    ap.add_argument("--check", nargs="*", default=[])
    ap.add_argument("--stability", default="", metavar="T1,T2,…",
                    help="the FIC-held network's leading eigenvalue at these fic_targets (k 0.01, no maps)")
    ap.add_argument("--search", action="store_true")
    ap.add_argument("--starts", type=int, default=6)
    ap.add_argument("--level-free", action="store_true", help="search r alone (no level held)")
    args = ap.parse_args()
    train = load_dataset(args.data)
    train_fc = np.asarray(train.target_fc, float)
    test_fc = np.asarray(load_dataset(args.test).target_fc, float)
    e = dataset_edges("within", train)  # the product's within-hemisphere edges (from the data's hemispheres)
    for target in (float(t) for t in args.stability.split(",") if t):
        ns = argparse.Namespace(**{**vars(args), "param": ["k=0.0099:0.0101"],
                                   "fixed": [f"fic_target={target}", "ext_E=1"]})
        _, sur = build(ns, train)
        lam = sur.leading(np.array([0.01]))
        kind = "stable (quiet)" if lam.real < 0 else "unstable: a noisy oscillator past its Hopf point"
        print(f"fic_target {target:g}: leading eigenvalue {lam.real:+.3f} ± {lam.imag:.3f}i per ms "
              f"({lam.imag / (2e-3 * np.pi):.0f} Hz), {kind}")
    for path in args.check:
        summary = json.loads(Path(path).read_text())
        pars = summary["best_params"]
        args.param = [f"{n}={v - 1e-6}:{v + 1e-6}" for n, v in pars.items()]
        args.fixed = [] if "ext_E" in pars else ["ext_E=1"]
        _, sur = build(args, train)
        fc, growth, bad = sur.fc(np.array([pars[n] for n in sur.names]))
        fresh = summary.get("fresh") or {}
        r = np.corrcoef(fc[e], train_fc[e])[0, 1]
        print(f"{Path(path).stem}: surrogate r {r:.3f}, mean FC {fc[e].mean():.3f}, growth {growth:.3g}/ms, FIC lost "
              f"{bad} | simulated fresh r {fresh.get('fc_corr_mean', float('nan')):.3f}, mean FC "
              f"{fresh.get('mean_fc_mean', float('nan')):.3f}")
    if not args.search:
        return 0
    config, sur = build(args, train)
    level = float(train_fc[e].mean())
    lo = np.array([config.bounds[n][0] for n in sur.names])
    hi = np.array([config.bounds[n][1] for n in sur.names])

    def loss(u: np.ndarray) -> float:
        v = lo + (hi - lo) / (1 + np.exp(-u))
        fc, growth, bad = sur.fc(v)
        if not np.isfinite(growth) or growth >= -1e-4 or bad:  # graded, so a search can walk back to stability
            return 1.0 + min(10.0, max(growth, 0.0)) + bad
        r = np.corrcoef(fc[e], train_fc[e])[0, 1]
        return -r + (0.0 if args.level_free else 3 * max(0.0, abs(fc[e].mean() - level) - 0.1))

    rng = np.random.default_rng(0)
    best = (np.inf, None)
    for _ in range(args.starts):
        # start quiet: the base parameters low in their bounds, every map coefficient near 0
        v0 = np.where([("@" in n) for n in sur.names], rng.normal(0, 0.3, len(sur.names)),
                      lo + (hi - lo) * rng.uniform(0.02, 0.2, len(sur.names)))
        v0 = np.clip(v0, lo + 1e-3 * (hi - lo), hi - 1e-3 * (hi - lo))
        u0 = np.log((v0 - lo) / (hi - v0))
        res = minimize(loss, u0, method="Powell", options={"maxiter": 1500, "xtol": 1e-3, "ftol": 1e-5})
        if res.fun < best[0]:
            best = (res.fun, res.x)
        v = lo + (hi - lo) / (1 + np.exp(-res.x))
        print(f"start: loss {res.fun:.3f}  " + " ".join(f"{n}={x:.3g}" for n, x in zip(sur.names, v)), flush=True)
    v = lo + (hi - lo) / (1 + np.exp(-best[1]))
    fc, growth, bad = sur.fc(v)
    print(f"best: surrogate r {np.corrcoef(fc[e], train_fc[e])[0, 1]:.3f} (test {np.corrcoef(fc[e], test_fc[e])[0, 1]:.3f}),"
          f" mean FC {fc[e].mean():.3f}, growth {growth:.3g}/ms")
    print("simulate: " + " ".join(f"--fixed {n}={x:.4g}" for n, x in zip(sur.names, v)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
