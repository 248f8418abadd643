"""Verdicts a reviewer asks for (issue 31): map-alone nulls, the map control, the level and FIC terms, FCD on the
scored edges, and the fresh-noise verdict — each against an independent numpy computation."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests.support import run_main
from tests.support import make_small_dataset, random_structure
from engine.config import ConfigError, FitConfig
from engine.data import nulls
from engine.data.dataset import Dataset, load_dataset
from engine.data.edges import edge_index
from engine.model import fcd, terms
from engine.model.target import build_target


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a, b)[0, 1])


def _halves(n: int) -> np.ndarray:
    return np.repeat(np.array([0, 1], np.int8), n // 2)


# --- nulls -----------------------------------------------------------------------------------------------------------

def test_a_maps_prediction_alone_is_scored_as_numpy_scores_it_on_the_same_edges() -> None:
    rng = np.random.default_rng(0)
    n = 20
    fc = np.corrcoef(rng.normal(size=(60, n)), rowvar=False)
    cont = rng.normal(size=n)
    cat = np.array([0, 1, 2, 3] * 5, np.float64)
    e = edge_index("within", n, _halves(n))
    got = nulls.map_alone({"c": cont, "g": cat}, fc, e)
    i, j = e
    assert got["c"] == pytest.approx(_corr(-np.abs(cont[i] - cont[j]), fc[i, j]), abs=1e-12)
    assert got["g"] == pytest.approx(_corr((cat[i] == cat[j]).astype(float), fc[i, j]), abs=1e-12)
    # a map that IS the FC's pattern scores 1; its sign matters (−|Δ|, not |Δ|)
    g = rng.normal(size=n)
    assert nulls.map_alone({"g": g}, 1.0 - np.abs(g[:, None] - g[None, :]), None)["g"] == pytest.approx(1.0)


def test_nulls_name_the_maps_a_fit_uses_and_warn_when_the_model_is_no_better() -> None:
    assert nulls.used_maps(("k", "ext_E@fcgradient", "wEE@yeo7:3", "ext_E@yeo7:1", "ext_E")) == ("fcgradient", "yeo7")
    assert nulls.map_caveat(0.60, {"fcgradient": 0.68, "strength": 0.2}) is not None
    assert "fcgradient" in nulls.map_caveat(0.60, {"fcgradient": 0.68})
    assert nulls.map_caveat(0.70, {"fcgradient": 0.68}) is None
    assert nulls.map_caveat(0.70, {}) is None


def test_a_permutation_shuffles_regions_only_within_their_hemisphere_and_is_reproducible() -> None:
    n = 40
    hemi = _halves(n)
    p1 = nulls.permutation("m", seed=0, index=1, hemisphere=hemi, n=n)
    assert sorted(p1) == list(range(n)) and (hemi[p1] == hemi).all() and (p1 != np.arange(n)).any()
    assert (p1 == nulls.permutation("m", seed=0, index=1, hemisphere=hemi, n=n)).all()
    assert (p1 != nulls.permutation("m", seed=0, index=2, hemisphere=hemi, n=n)).any()
    # a categorical map's group indicators move together
    maps = {"g:0": (np.arange(n) % 2 == 0).astype(float), "g:1": (np.arange(n) % 2 == 1).astype(float)}
    out = nulls.permute_maps(maps, only=(), seed=0, index=1, hemisphere=hemi)
    assert (out["g:0"] + out["g:1"] == 1).all()


def test_the_map_control_p_value_counts_permutations_at_least_as_good() -> None:
    c = nulls.control_summary(["m"], 0.5, [0.4, 0.6, 0.3])
    assert c["p_value"] == pytest.approx(2 / 4) and c["p_floor"] == pytest.approx(1 / 4)
    assert nulls.control_caveat(c) is not None
    best = nulls.control_summary(["m"], 0.9, [0.1] * 19)
    assert best["p_value"] == pytest.approx(1 / 20) and nulls.control_caveat(best) is None
    few = nulls.control_summary(["m"], 0.9, [0.1] * 4)  # beats them all, but 4 cannot give p ≤ 0.05: it says so
    assert few["p_value"] == pytest.approx(1 / 5) and "--permutations 19" in nulls.control_caveat(few)


# --- terms -----------------------------------------------------------------------------------------------------------

def test_the_level_term_is_the_difference_of_mean_fc_on_the_scored_edges() -> None:
    rng = np.random.default_rng(1)
    n, b = 10, 3
    tgt = np.corrcoef(rng.normal(size=(40, n)), rowvar=False)
    fcs = np.stack([np.corrcoef(rng.normal(size=(40, n)) + s * rng.normal(size=(40, 1)), rowvar=False)
                    for s in (0.0, 1.0, 3.0)], axis=-1)
    e = edge_index("within", n, _halves(n))
    got = np.asarray(terms.fc_level_term(terms.Signals(fc=jnp.asarray(fcs)), terms.Target(fc=jnp.asarray(tgt), edges=e)))
    want = [abs(fcs[e[0], e[1], k].mean() - tgt[e[0], e[1]].mean()) for k in range(b)]
    np.testing.assert_allclose(got, want, atol=1e-12)
    assert got[2] > got[0]  # a shared signal raises the level


@pytest.mark.parametrize("objective, phrase", [("fc_level", "add fc or fc_rmse"), ("2*fc_level+fcd_ks", "add fc")])
def test_a_level_term_without_an_fc_term_is_refused(objective: str, phrase: str) -> None:
    with pytest.raises(ConfigError, match=phrase):
        FitConfig(objective=objective, observe="bold")


def test_the_fic_term_adds_the_infeasible_fraction_to_the_loss_and_the_best_is_chosen_with_it() -> None:
    """FIC finds no positive weight where drive and input cannot reach E* (as test_regional counts them); the term
    is that fraction of regions, weighted into the loss, and the batch's best FC is the best with the penalty."""
    from engine.model.objective import Objective

    rng = np.random.default_rng(6)
    c, d = random_structure(30, rng)
    c = c / c.sum(axis=1).max()  # in-strength ≤ 1: the additive input k·E*·s stays in a range FIC can balance
    ds = Dataset(name="rand30", source="generated", cmat=c, dmat=d, target_fc=make_small_dataset(30, 6).target_fc,
                 n_scans=0, n_timepoints=0)
    base = dict(bounds={"k": (0.5, 80.0), "ext_E@strength": (-1.0, 1.0)},
                fixed={"sigma": 0.01, "fic_target": 0.04, "ext_E": 0.3}, local_set="neurolib", coupling="additive",
                fic=True, duration_ms=300.0, batch=3, budget=3)
    values = np.array([[8.0, 0.0], [0.5, 0.0], [2.5, 1.0]], np.float32)
    plain = Objective(ds, FitConfig(objective="fc", **base), devices=jax.devices()[:1])(values)
    pen = Objective(ds, FitConfig(objective="fc+0.5*fic", **base), devices=jax.devices()[:1])(values)
    frac = np.asarray(pen.fic_infeasible, np.float64) / 30
    assert frac[1] == 1.0 and 0 < frac[2] < 1 and frac[0] == 0
    np.testing.assert_allclose(pen.terms["fic"], frac, atol=1e-12)
    np.testing.assert_allclose(pen.losses, plain.losses + 0.5 * frac, atol=1e-6)
    assert pen.best_index == int(np.argmin(plain.losses + 0.5 * frac))
    with pytest.raises(ConfigError, match="needs --fic"):
        FitConfig(objective="fc+fic", bounds={"k": (1.0, 2.0)})


# --- FCD on the scored edges ----------------------------------------------------------------------------------------

def test_the_device_fcd_on_within_hemisphere_edges_matches_numpy() -> None:
    rng = np.random.default_rng(2)
    t, n, b = 60, 8, 2
    y = rng.normal(size=(t, n, b)) + rng.normal(size=(t, 1, b)) * np.linspace(0, 2, t)[:, None, None]
    e = edge_index("within", n, _halves(n))
    got = np.asarray(fcd.fcd_values(jnp.asarray(y), 12, 4, edges=e))
    for k in range(b):
        x = y[:, :, k]
        starts = range(0, t - 12 + 1, 4)
        vecs = [np.corrcoef(x[s:s + 12], rowvar=False)[e] for s in starts]
        m = np.corrcoef(np.array(vecs))
        want = m[np.triu_indices(len(vecs), 1)]
        np.testing.assert_allclose(got[:, k], want, atol=1e-10)
        np.testing.assert_allclose(fcd.host_fcd_values(x, 12, 4, e), want, atol=1e-12)
    assert not np.allclose(got, np.asarray(fcd.fcd_values(jnp.asarray(y), 12, 4)))  # all edges differ


def test_under_edges_within_a_group_target_uses_its_within_hemisphere_fcd_values() -> None:
    ds = load_dataset("schaefer100")
    assert ds.fcd_values_within is not None and ds.fcd_values_within.size > 10_000
    cfg = FitConfig(observe="bold", objective="fc+fcd_ks", edges="within", duration_ms=200_000.0,
                    transient_ms=20_000.0, fcd_window_s=21.6, fcd_step_s=3.6, bounds={"k": (1.0, 2.0)})
    tgt = build_target(cfg, ds)
    assert tgt.fcd_edges == "within" and np.array_equal(tgt.fcd_sorted, np.sort(ds.fcd_values_within))
    assert tgt.mean_fc == pytest.approx(ds.target_fc[tgt.edge_index].mean())
    all_edges = build_target(cfg.replace(edges="all"), ds)
    assert all_edges.fcd_edges == "all" and np.array_equal(all_edges.fcd_sorted, np.sort(ds.fcd_values))
    # a group target without within-hemisphere FCD values: the FCD falls back to every edge, and says so
    bare = dataclasses.replace(ds, fcd_values_within=None)
    assert build_target(cfg, bare).fcd_edges == "all"


# --- the fresh-noise verdict ----------------------------------------------------------------------------------------

def _bold_dataset(n: int = 12, seed: int = 3) -> Dataset:
    """A small dataset with two BOLD scans, a TR and hemisphere labels."""
    rng = np.random.default_rng(seed)
    c, d = random_structure(n, rng)
    mix = rng.normal(size=(n, n))
    scans = tuple((rng.normal(size=(300, n)) @ mix).T for _ in range(2))
    fc = np.mean([np.corrcoef(s) for s in scans], axis=0)
    labels = tuple([f"LH_{i}" for i in range(n // 2)] + [f"RH_{i}" for i in range(n // 2)])
    return Dataset(name="bold12", source="generated", cmat=c, dmat=d, target_fc=fc, n_scans=2, n_timepoints=300,
                   scans=scans, tr_s=0.72, labels=labels)


def test_a_fit_ends_with_a_fresh_noise_verdict_scored_on_new_seeds_and_on_the_held_out_scans() -> None:
    from engine.model.fresh import FRESH_SEED_OFFSET, fresh_verdict
    from engine.search import Search

    ds = _bold_dataset()
    cfg = FitConfig(observe="bold", objective="fc+fc_level", bounds={"k": (1.0, 20.0)}, fixed={"sigma": 0.05},
                    duration_ms=40_000.0, transient_ms=5_000.0, initial="steady", batch=4, budget=4, fresh_seeds=3,
                    split="odd-even", edges="within", optimizer="RandomSearch")
    summary = Search(cfg, ds).run()
    assert summary.status == "finished"
    fresh = summary.fresh
    assert fresh is not None and fresh["seeds"] == 3 and fresh["seed"] == FRESH_SEED_OFFSET
    assert -1 <= fresh["fc_corr_mean"] <= 1 and fresh["fc_corr_sd"] > 0  # three seeds, three different FCs
    assert set(fresh["terms"]) == {"fc", "fc_level"}
    assert fresh["terms"]["fc"]["mean"] == pytest.approx(1 - fresh["fc_corr_mean"], abs=1e-12)
    assert fresh["fcd_ks_mean"] is not None  # an FC-only objective is judged on its FCD too
    assert fresh["data_mean_fc"] == pytest.approx(float(np.mean(summary_target_fc(cfg, ds)[_within(ds)])), abs=1e-9)
    assert fresh["test"] is not None and fresh["test"]["fc_corr_mean"] is not None
    # the held-out score comes from the fresh runs, not the stored simulation
    assert summary.held_out["source"].startswith("fresh noise")
    assert summary.held_out["test_r"] == pytest.approx(fresh["test"]["fc_corr_mean"])
    # reproducible, and scored independently of the search's noise: the same call gives the same numbers
    again = fresh_verdict(cfg, ds, [summary.best_params], seeds=3).to_dict()
    assert again["fc_corr_mean"] == pytest.approx(fresh["fc_corr_mean"], abs=1e-9)
    assert summary.best_corr != pytest.approx(fresh["fc_corr_mean"], abs=1e-6)


def summary_target_fc(cfg: FitConfig, ds: Dataset) -> np.ndarray:
    return build_target(cfg, ds).fc


def _within(ds: Dataset) -> tuple[np.ndarray, np.ndarray]:
    return edge_index("within", ds.n_nodes, _halves(ds.n_nodes))


def test_fresh_seeds_zero_skips_the_verdict_and_the_nulls_still_come() -> None:
    from engine.search import Search

    ds = _bold_dataset()
    cfg = FitConfig(observe="bold", objective="fc", bounds={"k": (1.0, 20.0), "ext_E@strength": (-0.5, 0.5)},
                    fixed={"sigma": 0.05}, duration_ms=20_000.0, transient_ms=5_000.0, batch=2, budget=2,
                    fresh_seeds=0, optimizer="RandomSearch")
    summary = Search(cfg, ds).run()
    assert summary.fresh is None
    assert set(summary.map_baselines) == {"strength"}
    s = ds.cmat.sum(1)
    i, j = np.triu_indices(ds.n_nodes, 1)
    assert summary.map_baselines["strength"] == pytest.approx(_corr(-np.abs(s[i] - s[j]), ds.target_fc[i, j]), abs=1e-6)


# --- the command line ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("extra, phrase", [
    (("--fresh", "-1"), "fresh-noise seeds must be a whole number from 0"),
    (("--objective", "fc_level"), "add fc or fc_rmse"),
    (("--objective", "fc+fic"), "needs --fic"),
    (("--map-control", "permute"), "uses none"),
    (("--permutations", "3"), "add --map-control permute"),
    (("--preset", "regional", "--map-control", "permute:myelinmap"), "not a map this fit uses"),
    (("--preset", "regional", "--map-control", "shuffle"), "the one control is 'permute'"),
])
def test_bad_verdict_options_are_one_line_and_exit_2(extra: tuple[str, ...], phrase: str) -> None:
    r = run_main("fit", "--no-record", "--budget", "1", *extra)
    assert r.returncode == 2, r.stderr
    assert phrase in r.stderr and len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


def test_the_map_control_fits_again_with_permuted_maps_and_reports_them_beside_the_real_fit(tmp_path: Path) -> None:
    ds = _bold_dataset(12, 5)
    path = tmp_path / "d.npz"
    np.savez(path, Cmat=ds.cmat, Dmat=ds.dmat, BOLDs=np.stack(ds.scans), TR=0.72, labels=np.array(ds.labels))
    grad = tmp_path / "grad.txt"
    np.savetxt(grad, np.random.default_rng(0).normal(size=12))
    r = run_main("fit", "--data", str(path), "--map", f"grad={grad}", "--param", "k=1:20", "--param",
                 "ext_E@grad=-0.5:0.5", "--objective", "fc", "--duration", "20000", "--transient", "5000",
                 "--batch", "2", "--budget", "2", "--optimizer", "RandomSearch", "--fresh", "2",
                 "--map-control", "permute", "--permutations", "2", "--json", "--no-record")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    control = out["map_control"]
    assert control["maps"] == ["grad"] and control["permutations"] == 2
    assert len(control["permuted_fc_corr"]) == 2 and all(x is not None for x in control["permuted_fc_corr"])
    assert control["real_fc_corr"] == pytest.approx(out["fresh"]["fc_corr_mean"])
    assert control["p_value"] in (pytest.approx(1 / 3), pytest.approx(2 / 3), pytest.approx(1.0))
    assert "grad" in out["map_baselines"]


# --- recovery with fresh noise ------------------------------------------------------------------------------------

@pytest.mark.slow
def test_a_model_made_target_from_an_unseen_seed_is_recovered_and_the_recovered_points_fresh_r_reaches_the_truths(
        bundled: Dataset) -> None:
    """The target FC is the model's own (HCP-80 structure, the bold preset's point k 40, ext_E 0.2, the drive
    following in-strength with coefficient 0.25), averaged over 4 lanes of noise seed 777 — a seed the fit (seed 0,
    common noise) and the verdict (seed 1,000,003) never use. A 5-point grid over the coefficient in [−0.5, 0.5]
    recovers it within one grid step, and the recovered point's fresh-noise r comes within 0.02 of the true point's
    (measured: README's scans put a 200 s run's seed spread at 0.02–0.03).

    The recovered point and the truth are judged in one verdict call, as a fit's end judges its best and its
    recommendation: the best takes the first lanes and seeds, as in the fit's own verdict, and a lane's noise does not
    depend on the batch around it (``test_model``'s ``test_lane_independent_of_batch_size``; this model has no FIC,
    whose weights round per lane count). One 200 s call is saved."""
    from engine.model.fresh import fresh_verdict
    from engine.model.objective import Objective
    from engine.search import Search

    base = dict(fixed={"sigma": 0.05, "k": 40.0, "ext_E": 0.2}, duration_ms=200_000.0, transient_ms=20_000.0,
                observe="bold", objective="fc", initial="steady")
    bounds = {"ext_E@strength": (-0.5, 0.5)}
    truth = {"ext_E@strength": 0.25}
    make = FitConfig(bounds=bounds, batch=4, budget=4, common_noise=False, seed=777, **base)
    lanes = Objective(bundled, make).samples(np.array([[0.25]] * 4))
    target = dataclasses.replace(bundled, target_fc=np.mean([np.corrcoef(y.T) for y in lanes], axis=0), scans=(),
                                 n_scans=0)
    fit = FitConfig(bounds=bounds, batch=5, budget=5, optimizer="Grid", fresh_seeds=0, **base)
    summary = Search(fit, target).run()
    assert summary.status == "finished" and summary.fresh is None
    assert summary.best_params["ext_E@strength"] == pytest.approx(0.25, abs=0.25 + 1e-9)
    verdict = fresh_verdict(fit, target, [summary.best_params, truth], seeds=4)
    assert verdict.recommendation is not None and verdict.recommendation.params == truth
    true_r = verdict.to_dict()["recommendation"]["fc_corr_mean"]
    assert true_r > 0.5  # the target is reproducible from a new seed: there is something to recover
    assert verdict.to_dict()["fc_corr_mean"] >= true_r - 0.02
