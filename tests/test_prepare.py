"""The one preparation (``engine.prepare``) and the one settings translator (``engine.settings``): what every front
end reaches, so a rule kept here holds for the command line, the app, the API and studies alike."""

from __future__ import annotations

import numpy as np
import pytest

from engine.config import ConfigError, FitConfig
from engine.data.dataset import DataError, Dataset
from engine.prepare import prepare_fit
from engine.settings import config_from_settings
from tests.support import make_small_dataset


def _scans_file(path, tr: float, n: int = 6, scans: int = 4, t: int = 120, seed: int = 3) -> str:
    """An .npz of ``scans`` random BOLD scans of ``n`` regions sampled every ``tr`` s."""
    ds = make_small_dataset(n, seed)
    bold = np.random.default_rng(seed).standard_normal((scans, n, t))
    np.savez(path, Cmat=ds.cmat, Dmat=ds.dmat, BOLDs=bold, TR=tr)
    return str(path)


def _group(n: int = 6) -> Dataset:
    """A group target: FC and FCD values of windows of 10 TRs, step 2 (at TR 0.72 s), no scans."""
    ds = make_small_dataset(n, 2)
    values = np.sort(np.tanh(np.random.default_rng(2).normal(0.3, 0.4, 500)))
    return Dataset(name="group", source="generated", cmat=ds.cmat, dmat=ds.dmat, target_fc=ds.target_fc, n_scans=0,
                   n_timepoints=0, tr_s=0.72, fcd_values=values, fcd_window_tr=10, fcd_step_tr=2)


def test_the_cli_options_and_the_form_reach_the_same_config_through_one_translator():
    cli = config_from_settings({"preset": "tutorial", "param": ["k=1:2"], "fix": ["sigma=0.02"], "bandpass": "off",
                                "own_noise": True, "map": ["myelin=m.txt"], "budget": 8})
    form = config_from_settings({"preset": "tutorial", "bounds": {"k": (1.0, 2.0)}, "fixed": {"sigma": 0.02},
                                 "common_noise": False, "maps": {"myelin": "m.txt"}, "budget": 8})
    assert cli == form
    assert (cli.preset, cli.observe, cli.duration_ms, cli.budget) == ("tutorial", "rE", 6000.0, 8)


def test_fitting_a_parameter_drops_only_the_presets_default_fixed_value():
    assert "sigma" not in config_from_settings({"param": ["sigma=0.01:0.1"]}).fixed  # the preset's default goes
    both = {"param": ["sigma=0.01:0.1"], "fix": ["sigma=0.02"]}
    with pytest.raises(ConfigError):  # fixed on purpose and fitted: the settings contradict each other
        config_from_settings(both)
    assert config_from_settings({"fixed": {}}).fixed == {}  # a form's complete list replaces the preset's


def test_a_start_point_names_some_fitted_parameters_and_the_rest_start_as_the_preset_does():
    cfg = config_from_settings({"preset": "regional", "param": ["k=0.5:12", "ext_E=0.3:1.3", "ext_E@fcgradient=-1:1",
                                                                "ext_E@strength=-1:1"], "start_at": ["k=9", "ext_E=0.4"]})
    # named values as given; the rest at the preset's point (ext_E@fcgradient −0.8, ext_E@strength 0)
    assert cfg.start == {"k": 9.0, "ext_E": 0.4, "ext_E@fcgradient": -0.8, "ext_E@strength": 0.0}
    tut = config_from_settings({"preset": "tutorial", "param": ["k=1:2", "sigma=0.01:0.03"], "start_at": ["k=1.5"]})
    assert tut.start == {"k": 1.5, "sigma": pytest.approx(0.02)}  # no preset point for sigma: its bounds' middle
    with pytest.raises(ConfigError, match="--start wEE: not fitted"):
        config_from_settings({"preset": "tutorial", "start_at": ["wEE=12"]})
    with pytest.raises(ConfigError, match="outside its bounds"):
        config_from_settings({"preset": "tutorial", "start_at": ["k=9"]})


def test_an_unknown_setting_is_one_line():
    with pytest.raises(ConfigError, match="unknown setting.*colour"):
        config_from_settings({"colour": "red"})


def test_prepare_aligns_a_groups_fcd_window_unless_given():
    cfg = FitConfig(bounds={"k": (0.5, 3.0)}, observe="bold", objective="fc+fcd_ks", duration_ms=30_000.0,
                    transient_ms=0.0)
    prepared = prepare_fit(cfg, dataset=_group(), local=False)
    assert (prepared.config.fcd_window_s, prepared.config.fcd_step_s) == pytest.approx((7.2, 1.44))
    assert (prepared.target.fcd_window, prepared.target.fcd_step) == (10, 2)
    with pytest.raises(ConfigError, match="windows of 10 TRs, step 2"):
        prepare_fit(cfg, dataset=_group(), fcd_window_given=True, local=False)


def test_prepare_refuses_a_single_region():
    one = make_small_dataset(2)
    one = Dataset(name="one", source="generated", cmat=one.cmat[:1, :1], dmat=one.dmat[:1, :1],
                  target_fc=one.target_fc[:1, :1], n_scans=0, n_timepoints=0)
    with pytest.raises(DataError, match="at least 2 regions"):
        prepare_fit(FitConfig(), dataset=one)


def test_test_data_with_another_tr_is_refused_for_an_fcd_term_in_every_front_end(tmp_path):
    train = _scans_file(tmp_path / "train.npz", 0.72)
    other = _scans_file(tmp_path / "other.npz", 1.0, seed=4)
    cfg = FitConfig(data=train, bounds={"k": (0.5, 3.0)}, observe="bold", objective="fc+fcd_ks", fcd_window_s=20.0,
                    fcd_step_s=2.0, duration_ms=60_000.0, transient_ms=0.0, test_data=other)
    with pytest.raises(ConfigError, match=r"its TR \(1 s\) differs from the fitted data's \(0.72 s\)"):
        prepare_fit(cfg, local=False)
    prepared = prepare_fit(cfg.replace(objective="fc"), local=False)  # FC alone compares across TRs
    assert prepared.test_dataset is not None and prepared.test_target is not None
    assert prepared.test_target.role == "test" and prepared.test_target.tr_s == 1.0


def test_a_prepared_fit_builds_each_target_once(tmp_path, monkeypatch):
    from engine.model import heldout, target
    from engine.model import objective as local
    from engine.search import Search

    built: list[str] = []
    real = target.build_target

    def counting(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        built.append(kwargs.get("role", "train"))
        return real(*args, **kwargs)

    for module in (target, local, heldout):
        monkeypatch.setattr(module, "build_target", counting)
    cfg = FitConfig(data=_scans_file(tmp_path / "d.npz", 0.72), bounds={"k": (0.5, 3.0)}, batch=2, budget=2,
                    duration_ms=50.0, split="halves", fresh_seeds=0)  # the verdict builds targets of its own
    prepared = prepare_fit(cfg)
    assert sorted(built) == ["test", "train"]
    summary = Search(prepared.config, prepared.dataset, prepared=prepared).run()
    assert summary.status == "finished" and summary.held_out["check"].startswith("split halves")
    assert sorted(built) == ["test", "train"]  # the search scored the held-out check on the prepared targets


def test_a_fit_not_given_prepared_is_prepared_by_the_search_and_the_api_prepares_first(tmp_path):
    """The app, studies and resumes reach the same checks through the search (a failed fit); the API raises first."""
    from engine.api import fit
    from engine.data.dataset import load_dataset
    from engine.search import Search

    train = _scans_file(tmp_path / "train.npz", 0.72)
    cfg = FitConfig(data=train, bounds={"k": (0.5, 3.0)}, observe="bold", objective="fc+fcd_ks", fcd_window_s=20.0,
                    fcd_step_s=2.0, duration_ms=60_000.0, transient_ms=0.0, batch=2, budget=2,
                    test_data=_scans_file(tmp_path / "other.npz", 1.0, seed=4))
    summary = Search(cfg, load_dataset(train)).run()
    assert summary.status == "failed" and "differs from the fitted data's (0.72 s)" in summary.reason
    with pytest.raises(ConfigError, match="differs from the fitted data's"):
        fit(cfg)
