"""The search loop and objective: recovery of a known k, NaN handling, cancel, failures, reproducibility."""

from __future__ import annotations

import dataclasses
import threading

import numpy as np
import pytest

from engine import search as search_mod
from engine.config import OPTIMIZERS, FitConfig
from engine.data.dataset import Dataset, functional_connectivity, load_dataset
from engine.events import BatchEvaluated, Cancelled, Compiling, Failed, Finished, NewBest, Started, Warned
from engine.model.objective import WORST_LOSS, Objective
from engine.search import Search, bound_warnings
from engine.proposers import GridProposer

# no fresh-noise verdict after the fits here (tests/test_verdict.py tests it): it simulates the best point again
SHORT = dict(duration_ms=200.0, fresh_seeds=0)


def small_dataset(n: int = 10, seed: int = 1) -> Dataset:
    """A random symmetric network of n regions with a random target FC."""
    rng = np.random.default_rng(seed)
    c = rng.random((n, n)); c = (c + c.T) / 2; np.fill_diagonal(c, 0)
    d = rng.uniform(10, 120, (n, n)); d = (d + d.T) / 2; np.fill_diagonal(d, 0)
    fc = functional_connectivity(rng.standard_normal((200, n)) + rng.standard_normal((200, 1)))
    return Dataset(name="small", source="generated", cmat=c, dmat=d, target_fc=fc, n_scans=1, n_timepoints=200)


@pytest.fixture(scope="module")
def bundled() -> Dataset:
    return load_dataset()


def collect(config: FitConfig, dataset: Dataset, **kw):
    events = []
    summary = Search(config, dataset, listeners=[events.append], **kw).run()
    return summary, events


def test_events_arrive_in_order_and_count_every_candidate(bundled):
    cfg = FitConfig(batch=4, budget=10, **SHORT)  # 4 + 4 + 2: the last batch is padded, not recompiled
    summary, events = collect(cfg, bundled)
    kinds = [type(e) for e in events]
    # transient 0: the settings' caveat comes right after Started, before anything is compiled
    assert kinds[0] is Started and kinds[1] is Warned and "initial delay history" in events[1].message
    assert kinds[2] is Compiling and kinds[-1] is Finished
    assert kinds.count(Compiling) == 1
    batches = [e for e in events if isinstance(e, BatchEvaluated)]
    assert [len(b.losses) for b in batches] == [4, 4, 2]
    assert [b.first_evaluation for b in batches] == [0, 4, 8]
    assert summary.evaluations == 10 and summary.status == "finished"
    all_losses = np.concatenate([b.losses for b in batches])
    assert summary.best_loss == pytest.approx(all_losses.min())
    bests = [e for e in events if isinstance(e, NewBest)]
    assert bests and bests[-1].loss == summary.best_loss and bests[-1].model_fc.shape == (80, 80)
    assert np.all(np.diff([b.loss for b in bests]) < 0)
    assert all(np.isfinite(b.losses).all() and (b.losses >= 0).all() and (b.losses <= 2).all() for b in batches)


def test_same_seed_gives_bit_identical_losses(bundled):
    cfg = FitConfig(batch=3, budget=6, **SHORT)
    losses = []
    for _ in range(2):
        _, events = collect(cfg, bundled)
        losses.append(np.concatenate([e.losses for e in events if isinstance(e, BatchEvaluated)]))
    assert np.array_equal(losses[0], losses[1])


def test_common_noise_scores_equal_parameters_equally_and_own_noise_does_not(bundled):
    values = np.array([[2.0], [2.0], [1.0], [2.0]])
    common = Objective(bundled, FitConfig(batch=4, **SHORT))(values)
    assert common.losses[0] == common.losses[1] == common.losses[3] != common.losses[2]
    own = Objective(bundled, FitConfig(batch=4, common_noise=False, **SHORT))(values)
    assert len({own.losses[0], own.losses[1], own.losses[3]}) == 3


@pytest.mark.parametrize("n_values", [5, 2])
def test_best_fc_is_a_real_candidates_with_own_noise_and_padded_lanes(bundled, n_values):
    """Padded lanes (copies of the first candidate with their own noise) never supply the best FC."""
    import jax

    obj = Objective(bundled, FitConfig(batch=5, common_noise=False, seed=3, **SHORT), devices=jax.devices()[:1])
    assert obj.batch >= 5
    res = obj(np.array([[3.0], [0.5], [0.6], [0.7], [0.8]])[:n_values])
    iu = np.triu_indices(80, 1)
    corr = np.corrcoef(res.best_fc[iu], bundled.target_fc[iu])[0, 1]
    assert res.best_index == 0  # k = 3 fits the HCP target best among these
    assert 1 - corr == pytest.approx(res.losses[0], abs=1e-5)


def test_model_fc_of_the_best_matches_its_loss(bundled):
    obj = Objective(bundled, FitConfig(batch=3, **SHORT))
    res = obj(np.array([[0.5], [2.5], [1.5]]))
    iu = np.triu_indices(80, 1)
    corr = np.corrcoef(res.best_fc[iu], bundled.target_fc[iu])[0, 1]
    assert res.best_index == int(np.argmin(res.losses))
    assert 1 - corr == pytest.approx(res.losses[res.best_index], abs=1e-5)


def test_recovers_a_known_k_from_a_target_made_by_the_model():
    data = small_dataset(10)
    cfg = FitConfig(bounds={"k": (0.5, 3.0)}, batch=6, budget=36, duration_ms=300.0, optimizer="DE", seed=3, fresh_seeds=0)
    truth = Objective(data, cfg)(np.array([[1.7]])).best_fc  # same noise as the fit: common random numbers
    target = dataclasses.replace(data, target_fc=truth)
    summary, _ = collect(cfg, target)
    assert summary.best_params["k"] == pytest.approx(1.7, abs=0.1)
    assert summary.best_loss < 0.01


def test_diverging_candidates_get_the_worst_finite_loss_and_a_flag(bundled):
    res = Objective(bundled, FitConfig(batch=3, **SHORT))(np.array([[np.nan], [2.0], [np.inf]]))
    assert res.flags[0] == "nan" and res.flags[1] == ""
    assert res.losses[0] == WORST_LOSS and np.isfinite(res.losses).all()
    assert res.best_index == 1


def test_a_run_with_diverging_candidates_goes_on_and_warns(bundled, monkeypatch):
    class NanFirst(GridProposer):
        def ask(self, n):
            out = super().ask(n)
            out[0, 0] = np.nan
            return out

    monkeypatch.setattr(search_mod, "make_proposer", lambda c: NanFirst(np.array([[0.5, 3.0]]), budget=c.budget))
    summary, events = collect(FitConfig(batch=2, budget=4, optimizer="Grid", **SHORT), bundled)
    assert summary.status == "finished" and summary.evaluations == 4 and summary.nan_candidates == 2
    assert any(isinstance(e, Warned) and "diverged" in e.message for e in events)


def test_cancel_stops_within_one_batch_and_keeps_results(bundled):
    cfg = FitConfig(batch=2, budget=200, **SHORT)
    events: list = []
    s = Search(cfg, bundled, listeners=[events.append])
    first, cancelled = threading.Event(), threading.Event()

    def hold_after_first_batch(e):  # the worker waits here until the main thread has cancelled: no race with speed
        if isinstance(e, BatchEvaluated) and e.batch_index == 0:
            first.set()
            assert cancelled.wait(120)

    s.listeners.append(hold_after_first_batch)
    t = threading.Thread(target=s.run, daemon=True)
    t.start()
    assert first.wait(300)
    s.cancel()  # from another thread, while the first batch's results are being delivered
    cancelled.set()
    t.join(60)
    assert not t.is_alive()
    assert isinstance(events[-1], Cancelled)
    done = sum(len(e.losses) for e in events if isinstance(e, BatchEvaluated))
    assert s.summary.status == "stopped" and s.summary.evaluations == done == 2  # no batch after the cancel
    assert s.summary.best_loss is not None


def _no_lingering_threads():
    return [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon and t.is_alive()]


def test_optimizer_failure_ends_as_failed_keeps_results_and_leaves_no_thread(bundled, monkeypatch):
    class Breaks(GridProposer):
        def tell(self, values, losses):
            if self.position > 2:
                raise TypeError("only 0-dimensional arrays can be converted to Python scalars")
            super().tell(values, losses)

    monkeypatch.setattr(search_mod, "make_proposer", lambda c: Breaks(np.array([[0.5, 3.0]]), budget=c.budget))
    summary, events = collect(FitConfig(batch=2, budget=8, optimizer="Grid", **SHORT), bundled)
    assert isinstance(events[-1], Failed) and summary.status == "failed"
    assert "TypeError" in summary.reason and "only 0-dimensional" in summary.reason
    assert summary.evaluations == 4 and summary.best_loss is not None
    assert not _no_lingering_threads()


def test_optimizer_that_cannot_start_fails_cleanly(bundled):
    summary, events = collect(FitConfig(batch=4, budget=4, optimizer="Powell", **SHORT), bundled)
    assert summary.status == "failed" and "Powell" in summary.reason
    assert not _no_lingering_threads()


@pytest.fixture(scope="module")
def tiny_objective(bundled):
    """One real objective (batch 2, 50 ms) compiled once for the optimizer tests below."""
    return Objective(bundled, FitConfig(batch=2, budget=4, duration_ms=50.0))


@pytest.mark.parametrize("name", ["TwoPointsDE", "CMA", "PSO", "OnePlusOne", "RandomSearch", "NGOpt"])
def test_nevergrad_optimizers_finish_on_the_real_objective(bundled, tiny_objective, name):
    """Each spends its budget on real losses (NGOpt too, with this numpy, at this budget) and recommends a point."""
    summary, events = collect(FitConfig(batch=2, budget=4, optimizer=name, duration_ms=50.0, fresh_seeds=0), bundled,
                              objective=tiny_objective)
    assert summary.status == "finished", summary.reason
    assert summary.evaluations == 4 and summary.best_loss is not None
    losses = np.concatenate([e.losses for e in events if isinstance(e, BatchEvaluated)])
    assert summary.best_loss == pytest.approx(losses.min()) and 0 < losses.min() < 1  # real scores, not a fake's
    assert 0.5 <= summary.recommendation["k"] <= 3.0
    assert not _no_lingering_threads()


def test_grid_scan_maps_one_or_two_parameters():
    g = GridProposer(np.array([[0.0, 1.0], [10.0, 20.0]]), budget=9)
    pts = np.concatenate([g.ask(4), g.ask(4), g.ask(4)])
    assert pts.shape == (9, 2)
    assert sorted(set(pts[:, 0])) == [0.0, 0.5, 1.0] and sorted(set(pts[:, 1])) == [10.0, 15.0, 20.0]


def test_bound_warning_on_the_seed_bounds(bundled):
    # on the real data the loss keeps falling with k up to the seed's upper bound 3
    summary, events = collect(FitConfig(batch=3, budget=6, optimizer="Grid", duration_ms=500.0, fresh_seeds=0), bundled)
    assert summary.best_params["k"] == pytest.approx(3.0)
    assert any("upper bound" in w for w in summary.warnings)
    assert any(isinstance(e, Warned) and "widen the bounds" in e.message for e in events)
    assert bound_warnings(["k"], np.array([1.7]), {"k": (0.5, 3.0)}) == []
    assert "lower" in bound_warnings(["k"], np.array([0.52]), {"k": (0.5, 3.0)})[0]


# ---------------------------------------------------------------------------
# cancel counted from the call, every offered optimizer, seeds (a deterministic fake objective: no JAX)


class CountingObjective:
    """Loss = |k − 1.7|; counts calls; optionally blocks inside one call until released."""

    description = "fake"
    compiled = True

    def __init__(self, block_on: int | None = None) -> None:
        self.calls = 0
        self.block_on = block_on
        self.inside = threading.Event()
        self.release = threading.Event()

    def __call__(self, values, first_lane=0):
        from engine.model.objective import BatchResult

        self.calls += 1
        if self.calls == self.block_on:
            self.inside.set()
            assert self.release.wait(30)
        values = np.asarray(values, np.float64).reshape(len(values), -1)
        losses = np.abs(values - 1.7).sum(axis=1)
        return BatchResult(losses=losses, flags=("",) * len(losses), best_index=int(np.argmin(losses)),
                           best_fc=np.eye(3), wall_s=0.0, compile_s=0.0)


def test_cancel_from_a_listener_evaluates_no_further_batch():
    obj = CountingObjective()
    cfg = FitConfig(batch=2, budget=100, optimizer="RandomSearch", **SHORT)
    search = Search(cfg, small_dataset(3), objective=obj)
    at_cancel: list[int] = []

    def listener(ev):
        if isinstance(ev, BatchEvaluated) and ev.batch_index == 2:
            search.cancel()
            at_cancel.append(obj.calls)

    search.listeners.append(listener)
    summary = search.run()
    assert at_cancel == [3] and obj.calls == 3  # nothing after the call returned (no batch was in flight)
    assert summary.status == "stopped" and summary.evaluations == 6


def test_cancel_during_a_batch_lets_only_that_batch_finish():
    obj = CountingObjective(block_on=4)
    cfg = FitConfig(batch=2, budget=100, optimizer="RandomSearch", **SHORT)
    events: list = []
    search = Search(cfg, small_dataset(3), objective=obj, listeners=[events.append])
    thread = threading.Thread(target=search.run, daemon=True)
    thread.start()
    assert obj.inside.wait(30)
    search.cancel()
    calls_at_return = obj.calls  # the 4th call is in flight
    obj.release.set()
    thread.join(30)
    assert not thread.is_alive()
    assert calls_at_return == 4 and obj.calls == 4  # the one in flight finished; none started after
    assert search.summary.evaluations == 8  # the in-flight batch was kept
    assert isinstance(events[-1], Cancelled)
    assert sum(isinstance(e, BatchEvaluated) for e in events) == 4


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_every_offered_optimizer_finishes_a_short_fit(name):
    """Each optimizer README offers runs to the end of its budget (two parameters, batches of 3)."""
    cfg = FitConfig(batch=3, budget=30, optimizer=name, bounds={"k": (0.5, 3.0), "sigma": (0.0, 0.2)}, fixed={},
                    **SHORT)
    summary, events = collect(cfg, small_dataset(3), objective=CountingObjective())
    assert summary.status == "finished", summary.reason
    assert summary.evaluations == search_mod.budget_of(cfg) and summary.best_loss is not None
    assert summary.recommendation is not None
    assert not _no_lingering_threads()


def test_a_different_seed_proposes_differently_and_the_same_seed_identically():
    def asked(seed):
        cfg = FitConfig(batch=4, budget=12, optimizer="DE", seed=seed, **SHORT)
        _, events = collect(cfg, small_dataset(3), objective=CountingObjective())
        return np.concatenate([e.values for e in events if isinstance(e, BatchEvaluated)])

    a, b, c = asked(1), asked(1), asked(2)
    assert np.array_equal(a, b) and not np.array_equal(a, c)


# ---------------------------------------------------------------------------
# the real objective: flags, seeds and own noise across whole fits (tiny data)


def test_nan_inf_and_flat_candidates_are_flagged_with_the_worst_loss():
    """NaN and ±inf parameters diverge ("nan"); k = 0 without noise leaves every node on the same path, so the FC
    is all ones and has no variance to correlate ("flat"); all get WORST_LOSS and never become the best."""
    cfg = FitConfig(bounds={"k": (0.0, 3.0)}, fixed={"sigma": 0.0}, batch=5, **SHORT)
    res = Objective(small_dataset(6), cfg)(np.array([[np.nan], [np.inf], [0.0], [1.0], [-np.inf]]))
    assert res.flags == ("nan", "nan", "flat", "", "nan")
    assert res.losses[[0, 1, 2, 4]].tolist() == [WORST_LOSS] * 4
    assert res.losses[3] < WORST_LOSS and res.best_index == 3
    assert np.isfinite(res.best_fc).all()


@pytest.mark.slow
def test_seed_changes_losses_and_own_noise_fits_repeat_exactly():
    data = small_dataset(6)

    def losses(**kw):
        cfg = FitConfig(batch=3, budget=6, optimizer="Grid", **SHORT, **kw)  # the grid: same candidates every time
        _, events = collect(cfg, data)
        return np.concatenate([e.losses for e in events if isinstance(e, BatchEvaluated)])

    a, b = losses(seed=0), losses(seed=1)
    assert not np.any(a == b)  # another seed: another noise realisation for every candidate
    own1, own2 = losses(seed=4, common_noise=False), losses(seed=4, common_noise=False)
    assert np.array_equal(own1, own2)  # own noise per lane, keyed by evaluation number: two whole fits agree
    assert not np.array_equal(own1, losses(seed=4))


def test_an_fcd_term_over_too_few_windows_is_warned_with_a_duration_that_is_enough(bundled):
    """60 s of BOLD leaves a handful of FCD windows: the fit says so, counting the windows the objective really
    makes, and the duration it suggests gives the objective at least MIN_FCD_WINDOWS (and no warning)."""
    import re

    from engine import presets
    from engine.model import fcd
    from engine.caveats import MIN_FCD_WINDOWS

    def fit(duration_ms, objective="fc+fcd_ks"):
        cfg = presets.get("bold").config(duration_ms=duration_ms, objective=objective, batch=2, budget=2, fresh_seeds=0)
        _, events = collect(cfg, bundled, objective=CountingObjective())
        real = Objective(bundled, cfg)  # built, not compiled: its sampling and windows are what a fit simulates
        n_windows = fcd.windows(real.sampling.n_samples, real.target.fcd_window, real.target.fcd_step).size
        return [e.message for e in events if isinstance(e, Warned) and "FCD term" in e.message], n_windows

    said, n = fit(60_000.0)
    assert n < MIN_FCD_WINDOWS and len(said) == 1
    assert f"about {n} model windows ({n * (n - 1) // 2} FCD values)" in said[0] and "\n" not in said[0]
    need_s = float(re.search(r"--duration to ≥ (\d+) s", said[0]).group(1))
    said, n = fit(need_s * 1000.0)
    assert n >= MIN_FCD_WINDOWS and said == []
    assert fit(60_000.0, objective="fc")[0] == []  # no FCD term: nothing to warn about
